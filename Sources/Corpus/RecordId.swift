/// The ids densekit accepts, checked where they enter (corpus, queries, negatives lines), so
/// that every output format can hold them: a TREC run separates fields by spaces, an MS MARCO
/// run by tabs, and a newline would end the line.
public enum RecordId {
    /// Why `id` cannot be an id; nil when it can.
    public static func problem(_ id: some StringProtocol) -> String? {
        guard let first = id.first, let last = id.last else { return "empty id" }
        if first.isWhitespace || last.isWhitespace { return "id '\(id)' begins or ends with a space" }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "id '\(id.unicodeScalars.map { $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined())' holds a control character (tab, newline...)"
        }
        return nil
    }
}
