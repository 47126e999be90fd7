import DensekitTensor

/// L2-normalised copies of a matrix's rows, with what the backward pass needs.
///
/// Forward, as `torch.nn.functional.normalize` (eps 1e-12): `y = x / max(|x|, 1e-12)`. Backward,
/// its exact Jacobian: `dx = (dy - y (y . dy)) / |x|` when `|x| > 1e-12`, else `dx = dy / 1e-12`
/// (the map is then linear).
final class NormalizedRows {
    /// Normalisation floor on the norm, as torch's default.
    static let epsilon: Float = 1e-12

    let values: FloatBuffer
    /// The norm of each source row (before flooring).
    private let norms: [Float]
    private let rows: Int
    private let width: Int

    /// Normalises `rows` rows of `width` floats from `source`; nil when `source` is nil, so
    /// callers can opt out with one expression.
    init?(_ source: UnsafePointer<Float>?, rows: Int, width: Int) {
        guard let source else { return nil }
        self.rows = rows
        self.width = width
        values = FloatBuffer(capacity: rows * width)
        let out = values.pointer
        norms = [Float](unsafeUninitializedCapacity: rows) { buffer, initialized in
            for r in 0..<rows {
                let x = source + r * width
                let norm = RowKernels.dot(x, x, width).squareRoot()
                let inverse = 1 / Swift.max(norm, NormalizedRows.epsilon)
                let y = out + r * width
                for j in 0..<width { y[j] = x[j] * inverse }
                buffer[r] = norm
            }
            initialized = rows
        }
    }

    /// In place: turns `gradient`, `dL/dy` for every row, into `dL/dx`.
    func backpropagate(_ gradient: UnsafeMutablePointer<Float>) {
        let y = values.pointer
        for r in 0..<rows {
            let g = gradient + r * width
            let norm = norms[r]
            if norm > NormalizedRows.epsilon {
                let yr = y + r * width
                let along = RowKernels.dot(yr, g, width)
                let inverse = 1 / norm
                for j in 0..<width { g[j] = (g[j] - yr[j] * along) * inverse }
            } else {
                RowKernels.scale(g, by: 1 / NormalizedRows.epsilon, width)
            }
        }
    }
}
