import Foundation

/// Keeps file descriptors 0, 1 and 2 taken.
///
/// A process started with stdin, stdout or stderr closed (`2>&-`, `<&-`) hands the lowest free
/// descriptor to the next file it opens: LMDB's lock file would become "stderr", and progress
/// text would be written into it; a store's data file would become "stdin". Opening /dev/null
/// on each closed one first keeps every later file above them.
public enum StandardDescriptors {
    /// Opens /dev/null on each of 0, 1, 2 that is closed. Safe to call more than once.
    public static func reserve() {
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            // open returns the lowest free descriptor, which is this one (the lower ones are
            // open by now); anything else is closed again.
            let opened = open("/dev/null", O_RDWR)
            if opened >= 0 && opened != descriptor { close(opened) }
        }
    }
}
