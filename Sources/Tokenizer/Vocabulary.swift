// Token -> id lookup keyed by UTF-8 bytes. WordPiece asks for many candidate substrings per word;
// hashing the bytes in place (continuation prefix included) avoids building a String for each one.
// Open addressing with linear probing over one flat slot array keeps a lookup to one or two
// cache lines.

struct Vocabulary: Sendable {
    private struct Slot {
        var tag: UInt32
        var length: UInt32
        var offset: UInt32
        var id: Int32  // -1: empty
    }

    private let bytes: [UInt8]
    private let slots: [Slot]
    private let mask: Int
    private let prefix: [UInt8]
    private let prefixState: UInt64
    /// Longest token in bytes: candidates longer than this cannot match.
    let maxWordStartLength: Int
    /// Longest continuation token in bytes, prefix not counted.
    let maxContinuationLength: Int

    /// `tokens` must be free of duplicates (the loaders check, naming file and line).
    init(tokens: [(token: String, id: Int32)], continuingSubwordPrefix: String) {
        prefix = Array(continuingSubwordPrefix.utf8)
        prefixState = Vocabulary.feed(Vocabulary.seed, prefix)
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        var slots = [Slot](repeating: Slot(tag: 0, length: 0, offset: 0, id: -1), count: capacity)
        var bytes: [UInt8] = []
        var maxStart = 0
        var maxContinuation = 0
        for (token, id) in tokens {
            let utf8 = Array(token.utf8)
            maxStart = max(maxStart, utf8.count)
            if !prefix.isEmpty, utf8.starts(with: prefix) {
                maxContinuation = max(maxContinuation, utf8.count - prefix.count)
            }
            let hash = Vocabulary.finish(Vocabulary.feed(Vocabulary.seed, utf8))
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index].id >= 0 { index = (index + 1) & mask }
            slots[index] = Slot(
                tag: UInt32(truncatingIfNeeded: hash >> 32), length: UInt32(utf8.count),
                offset: UInt32(bytes.count), id: id)
            bytes.append(contentsOf: utf8)
        }
        if prefix.isEmpty { maxContinuation = maxStart }
        self.slots = slots
        self.bytes = bytes
        maxWordStartLength = maxStart
        maxContinuationLength = maxContinuation
    }

    /// The id of the `count` bytes at `start`, prefixed with the continuation marker when
    /// `continuation` is set; -1 when absent.
    @inline(__always)
    func id(_ start: UnsafePointer<UInt8>, count: Int, continuation: Bool) -> Int32 {
        var state = continuation ? prefixState : Vocabulary.seed
        for k in 0..<count { state = (state ^ UInt64(start[k])) &* Vocabulary.prime }
        let hash = Vocabulary.finish(state)
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        let prefixLength = continuation ? prefix.count : 0
        let total = UInt32(count + prefixLength)
        return slots.withUnsafeBufferPointer { slots in
            bytes.withUnsafeBufferPointer { bytes in
                var index = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let slot = slots[index]
                    if slot.id < 0 { return -1 }
                    if slot.tag == tag && slot.length == total
                        && matches(slot, bytes, start, count, prefixLength)
                    {
                        return slot.id
                    }
                    index = (index + 1) & mask
                }
            }
        }
    }

    @inline(__always)
    private func matches(
        _ slot: Slot, _ bytes: UnsafeBufferPointer<UInt8>, _ start: UnsafePointer<UInt8>, _ count: Int,
        _ prefixLength: Int
    ) -> Bool {
        let base = Int(slot.offset)
        for k in 0..<prefixLength where bytes[base + k] != prefix[k] { return false }
        for k in 0..<count where bytes[base + prefixLength + k] != start[k] { return false }
        return true
    }

    // FNV-1a, then a multiply-xorshift finish so that the low bits used for the slot index
    // depend on every byte.
    private static let seed: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01B3

    private static func feed(_ state: UInt64, _ data: [UInt8]) -> UInt64 {
        var state = state
        for byte in data { state = (state ^ UInt64(byte)) &* prime }
        return state
    }

    @inline(__always)
    private static func finish(_ state: UInt64) -> UInt64 {
        var h = state
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h
    }
}
