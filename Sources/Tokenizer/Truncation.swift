// Hugging Face's `TruncationStrategy::LongestFirst` for pairs (utils/truncation.rs), reproduced
// step for step: its arithmetic decides which segment keeps the odd token, and the encoder's
// outputs only match HF's when the kept tokens are exactly the same.

enum Truncation {
    /// How many content tokens of each segment to keep so that together they fit `maxLength`
    /// (the budget after the special tokens). Right truncation; stride 0.
    static func longestFirst(_ first: Int, _ second: Int, maxLength: Int) -> (Int, Int) {
        if maxLength <= 0 { return (0, 0) }
        if first + second <= maxLength { return (first, second) }
        var n1 = first
        var n2 = second
        let swapped = n1 > n2
        if swapped { swap(&n1, &n2) }
        // n1 is now the shorter; the longer gives up tokens first.
        n2 = n1 > maxLength ? n1 : max(n1, maxLength - n1)
        if n1 + n2 > maxLength {
            n1 = maxLength / 2
            n2 = n1 + maxLength % 2
        }
        if swapped { swap(&n1, &n2) }
        return (min(n1, first), min(n2, second))
    }
}
