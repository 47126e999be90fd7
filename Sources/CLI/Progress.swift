import Foundation

/// Progress of long work on standard error: items done, items/s and ETA (no ETA when the
/// total is unknown: a corpus read from a pipe).
///
/// On a terminal the line is redrawn in place; otherwise (logs, CI) a line is written every
/// few seconds. Results never go to stderr, so piping stdout stays clean.
final class Progress: @unchecked Sendable {
    private let label: String
    private let total: Int?
    private let unit: String
    private let started = Date()
    private var lastPrinted = Date.distantPast
    private let lock = NSLock()
    private let interactive = isatty(STDERR_FILENO) != 0
    private let quiet: Bool
    /// Items already done before this run (a resumed build): excluded from the rate.
    private let initial: Int
    private var latest: Int

    init(_ label: String, total: Int?, unit: String = "items", quiet: Bool = false, startingAt initial: Int = 0) {
        self.label = label
        self.total = total
        self.unit = unit
        self.quiet = quiet
        self.initial = initial
        latest = initial
    }

    /// Reports that `done` items are finished.
    func update(_ done: Int) {
        lock.withLock {
            let now = Date()
            latest = done
            guard !quiet, now.timeIntervalSince(lastPrinted) >= (interactive ? 0.25 : 5) || done == total else { return }
            lastPrinted = now
            latest = done
            let elapsed = max(now.timeIntervalSince(started), 1e-6)
            let rate = Double(done - initial) / elapsed
            let line: String
            if let total {
                let eta = rate > 0 ? Double(total - done) / rate : 0
                line = String(format: "%@: %d/%d %@ (%.1f %@/s, ETA %@)", label, done, total, unit, rate, unit, Progress.clock(eta))
            } else {
                line = String(format: "%@: %d %@ (%.1f %@/s)", label, done, unit, rate, unit)
            }
            FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + (interactive ? "" : "\n")).utf8))
        }
    }

    /// Ends the progress line with a summary.
    func finish() {
        lock.withLock {
            guard !quiet else { return }
            let elapsed = Date().timeIntervalSince(started)
            let done = max(latest, total ?? 0) - initial
            let line = String(format: "%@: %d %@ in %.1f s (%.1f %@/s)\n", label, done, unit, elapsed, Double(done) / max(elapsed, 1e-6), unit)
            FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line).utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s / 60 % 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
