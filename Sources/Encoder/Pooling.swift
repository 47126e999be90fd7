import DensekitTensor

extension PoolingConfiguration {
    /// Reduces each sequence's rows of `hidden` (`[tokens, width]`, packed as in `batch`) to one
    /// row of `output` (`[batch.count, width]`), then L2-normalises when configured.
    public func pool(hidden: UnsafePointer<Float>, batch: TokenBatch, width: Int, into output: UnsafeMutablePointer<Float>) {
        for s in 0..<batch.count {
            let start = batch.offsets[s], n = batch.length(of: s)
            let out = output + s * width
            let first = hidden + start * width
            switch mode {
            case .cls:
                out.update(from: first, count: width)
            case .mean, .meanSqrtLength:
                out.update(from: first, count: width)
                for token in 1..<max(n, 1) { RowKernels.add(out, first + token * width, width) }
                let divisor = mode == .mean ? Float(n) : Float(n).squareRoot()
                for j in 0..<width { out[j] /= divisor }
            case .max:
                out.update(from: first, count: width)
                for token in 1..<max(n, 1) {
                    let row = first + token * width
                    for j in 0..<width where row[j] > out[j] { out[j] = row[j] }
                }
            }
        }
        if normalize { RowKernels.l2Normalize(output, rows: batch.count, width: width) }
    }
}
