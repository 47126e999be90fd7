import Dispatch
import Foundation

// The encoding pipeline: split off added tokens, normalize, pre-tokenize, WordPiece, then add the
// special tokens and truncate as Hugging Face's BERT post-processor does.

extension WordPieceTokenizer {
    /// Reusable buffers, so that a batch allocates little beyond its results.
    struct Workspace {
        var normalized: [UInt8] = []
        var scratch = BertNormalizer.Scratch()
    }

    /// The wordpieces of `text` (no special tokens added, no truncation); for debugging and tools.
    public func tokenize(_ text: String) -> [String] {
        var workspace = Workspace()
        var ids: [Int32] = []
        appendContentIds(of: text, to: &ids, limit: Int.max, workspace: &workspace)
        return ids.map { tokensById[Int($0)] }
    }

    /// Encodes one sequence as `[CLS] tokens [SEP]`, keeping the first `maxLength - 2` tokens.
    ///
    /// As in Hugging Face, the special tokens are kept even when `maxLength` is below 2.
    public func encode(_ text: String, maxLength: Int) -> Encoding {
        var workspace = Workspace()
        return encode(text, maxLength: maxLength, workspace: &workspace)
    }

    func encode(_ text: String, maxLength: Int, workspace: inout Workspace) -> Encoding {
        let budget = maxLength > 2 ? maxLength - 2 : 0
        var ids: [Int32] = [clsId]
        ids.reserveCapacity(min(budget, text.utf8.count / 2 + 8) + 2)
        // Right truncation never looks at what follows the budget, so tokenizing stops there.
        appendContentIds(of: text, to: &ids, limit: budget + 1, workspace: &workspace)
        ids.append(sepId)
        return Encoding(ids: ids, typeIds: [Int32](repeating: 0, count: ids.count))
    }

    /// Encodes a pair as `[CLS] first [SEP] second [SEP]`, truncated longest-first to `maxLength`.
    ///
    /// `typeIds` are 0 up to and including the first [SEP] and 1 after it.
    public func encodePair(_ first: String, _ second: String, maxLength: Int) -> Encoding {
        var workspace = Workspace()
        var a: [Int32] = []
        var b: [Int32] = []
        // Both segments are tokenized in full: which one keeps the odd token depends on their
        // true lengths.
        appendContentIds(of: first, to: &a, limit: Int.max, workspace: &workspace)
        appendContentIds(of: second, to: &b, limit: Int.max, workspace: &workspace)
        let (n1, n2) = Truncation.longestFirst(a.count, b.count, maxLength: maxLength > 3 ? maxLength - 3 : 0)
        var ids: [Int32] = []
        ids.reserveCapacity(n1 + n2 + 3)
        ids.append(clsId)
        ids.append(contentsOf: a[..<n1])
        ids.append(sepId)
        ids.append(contentsOf: b[..<n2])
        ids.append(sepId)
        var typeIds = [Int32](repeating: 0, count: n1 + 2)
        typeIds.append(contentsOf: repeatElement(1, count: n2 + 1))
        return Encoding(ids: ids, typeIds: typeIds)
    }

    /// Encodes many sequences like ``encode(_:maxLength:)``, spread over the available cores;
    /// results are in input order.
    public func encodeBatch(_ texts: [String], maxLength: Int) -> [Encoding] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, texts.count)
        guard workers > 1, texts.count >= 8 else {
            var workspace = Workspace()
            return texts.map { encode($0, maxLength: maxLength, workspace: &workspace) }
        }
        // Contiguous chunks, a few per core so an unlucky chunk of long texts does not leave a
        // core idle; each chunk writes only its own slots.
        let chunks = min(texts.count, workers * 4)
        return [Encoding](unsafeUninitializedCapacity: texts.count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            let results = UncheckedSendable(base)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let lower = texts.count * chunk / chunks
                let upper = texts.count * (chunk + 1) / chunks
                var workspace = Workspace()
                for index in lower..<upper {
                    (results.value + index).initialize(
                        to: encode(texts[index], maxLength: maxLength, workspace: &workspace))
                }
            }
            initialized = texts.count
        }
    }

    /// Appends the content ids of `text` to `ids`, stopping once `ids` holds at least `limit` ids
    /// (and trimming it to `limit`).
    private func appendContentIds(of text: String, to ids: inout [Int32], limit: Int, workspace: inout Workspace) {
        var text = text
        _ = text.withUTF8 { utf8 in
            rawAddedTokens.split(utf8) { piece in
                switch piece {
                case .token(let id):
                    ids.append(id)
                case .text(let range):
                    let segment = UnsafeBufferPointer(rebasing: utf8[range])
                    appendSegmentIds(segment, to: &ids, limit: limit, workspace: &workspace)
                }
                return ids.count < limit
            }
        }
        if ids.count > limit { ids.removeLast(ids.count - limit) }
    }

    private func appendSegmentIds(
        _ segment: UnsafeBufferPointer<UInt8>, to ids: inout [Int32], limit: Int, workspace: inout Workspace
    ) {
        workspace.normalized.removeAll(keepingCapacity: true)
        normalizer.normalize(segment, into: &workspace.normalized, scratch: &workspace.scratch)
        _ = workspace.normalized.withUnsafeBufferPointer { normalized in
            normalizedAddedTokens.split(normalized) { piece in
                switch piece {
                case .token(let id):
                    ids.append(id)
                case .text(let range):
                    let text = UnsafeBufferPointer(rebasing: normalized[range])
                    BertPreTokenizer.forEachWord(in: text) { start, end in
                        wordPiece.appendIds(of: UnsafeBufferPointer(rebasing: text[start..<end]), to: &ids)
                        return ids.count < limit
                    }
                }
                return ids.count < limit
            }
        }
    }
}

/// Lets the batch workers share the output buffer; each writes a disjoint range of it.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
