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

extension PoolingConfiguration {
    /// Backward of `pool`: from the gradient with respect to the (normalised) sentence vectors
    /// (`[batch.count, width]`), writes the gradient with respect to every token's hidden state
    /// (`[tokens, width]`; tokens that do not contribute get 0).
    ///
    /// Normalisation `y = x / ‖x‖` has `dx = (dy - y (y · dy)) / ‖x‖`; the pooled `x` is
    /// recomputed from `hidden` (cheaper than keeping it). Mean spreads `dx / n` over the tokens,
    /// CLS routes it to token 0, max to the token that held each maximum.
    public func poolBackward(hidden: UnsafePointer<Float>, batch: TokenBatch, width: Int,
                             pooledGradient: UnsafePointer<Float>, into dHidden: UnsafeMutablePointer<Float>) {
        dHidden.update(repeating: 0, count: batch.tokenCount * width)
        var pooled = [Float](repeating: 0, count: batch.count * width)
        var dx = [Float](repeating: 0, count: width)
        pooled.withUnsafeMutableBufferPointer { buffer in
            PoolingConfiguration(mode: mode, normalize: false).pool(hidden: hidden, batch: batch, width: width, into: buffer.baseAddress!)
        }
        for s in 0..<batch.count {
            let start = batch.offsets[s], n = batch.length(of: s)
            let dy = pooledGradient + s * width
            if normalize {
                // The pooled row is used inside the closure only: its pointer must not escape.
                pooled.withUnsafeBufferPointer { buffer in
                    let x = buffer.baseAddress! + s * width
                    let norm = Swift.max(RowKernels.dot(x, x, width).squareRoot(), 1e-12)
                    var yDotDy: Float = 0
                    for j in 0..<width { yDotDy += x[j] / norm * dy[j] }
                    for j in 0..<width { dx[j] = (dy[j] - x[j] / norm * yDotDy) / norm }
                }
            } else {
                for j in 0..<width { dx[j] = dy[j] }
            }
            let first = dHidden + start * width
            switch mode {
            case .cls:
                for j in 0..<width { first[j] = dx[j] }
            case .mean, .meanSqrtLength:
                let divisor = mode == .mean ? Float(n) : Float(n).squareRoot()
                for token in 0..<n { for j in 0..<width { first[token * width + j] = dx[j] / divisor } }
            case .max:
                let source = hidden + start * width
                for j in 0..<width {
                    var best = 0
                    for token in 1..<Swift.max(n, 1) where source[token * width + j] > source[best * width + j] { best = token }
                    first[best * width + j] = dx[j]
                }
            }
        }
    }
}
