import Foundation

// Reading tokenizer files: existence and readability checks that name the path, vocab.txt parsing
// as Hugging Face does it, and JSON decoding with errors that say where the JSON is wrong.

enum TokenizerFiles {
    static func read(_ url: URL) throws -> Data {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else {
            throw TokenizerError.unreadableFile(path: path, reason: "is a directory")
        }
        do {
            // A UTF-8 byte-order mark is not content (of vocab.txt or tokenizer.json).
            let data = try Data(contentsOf: url)
            return data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data
        } catch {
            throw TokenizerError.unreadableFile(path: path, reason: error.localizedDescription)
        }
    }

    /// One token per line, id = line index; lines split as Rust's `lines()` (a final newline adds
    /// no token, "\r\n" counts as a newline) and trailing whitespace trimmed, as HF's
    /// `WordPiece::read_file` does.
    static func readVocabulary(_ url: URL) throws -> [String] {
        let data = try read(url)
        var tokens: [String] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var lineStart = 0
            var lineNumber = 1
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                guard let line = String(validating: bytes[lineStart..<contentEnd], as: UTF8.self) else {
                    throw TokenizerError.invalidUTF8(path: url.path, line: lineNumber)
                }
                tokens.append(trimmingTrailingWhitespace(line))
                lineStart = lineEnd + 1
                lineNumber += 1
            }
        }
        return tokens
    }

    private static func trimmingTrailingWhitespace(_ line: String) -> String {
        var scalars = line.unicodeScalars[...]
        while let last = scalars.last, CharacterClasses.isWhitespace(last) { scalars = scalars.dropLast() }
        return scalars.count == line.unicodeScalars.count ? line : String(String.UnicodeScalarView(scalars))
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data = try read(url)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw TokenizerError.invalidJSON(path: url.path, reason: describe(error))
        } catch {
            throw TokenizerError.invalidJSON(path: url.path, reason: "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return path.isEmpty ? "" : " at \(path.joined(separator: "."))"
        }
        switch error {
        case .dataCorrupted(let context):
            return "\(context.debugDescription)\(at(context))"
        case .keyNotFound(let key, let context):
            return "missing field '\(key.stringValue)'\(at(context))"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "expected \(type)\(at(context))"
        @unknown default:
            return "\(error)"
        }
    }
}
