/// Splitting whitespace-separated lines (qrels and run files).
public enum LineFields {
    /// The fields of `line` separated by runs of spaces and tabs, as trec_eval reads its files.
    ///
    /// Works on the UTF-8 bytes: every separator is ASCII, so the cuts fall on character
    /// boundaries, and no per-character Unicode work is done (run files have millions of lines).
    public static func split(_ line: String) -> [String] {
        var line = line
        return line.withUTF8 { bytes in
            var fields: [String] = []
            fields.reserveCapacity(8)   // qrels and run lines have 3 to 6 fields
            var fieldStart = -1
            for index in bytes.indices {
                let byte = bytes[index]
                if byte == 0x20 || byte == 0x09 || byte == 0x0D {
                    if fieldStart >= 0 {
                        fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[fieldStart..<index]), as: UTF8.self))
                        fieldStart = -1
                    }
                } else if fieldStart < 0 {
                    fieldStart = index
                }
            }
            if fieldStart >= 0 {
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[fieldStart...]), as: UTF8.self))
            }
            return fields
        }
    }
}
