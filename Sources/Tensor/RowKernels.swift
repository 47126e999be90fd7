import CKernels
import Foundation

/// Row-wise kernels over row-major `[rows, width]` matrices: the non-GEMM parts of a transformer.
///
/// Elementwise loops are plain scalar loops over pointers, which LLVM vectorises; reductions
/// (sums, dot products) accumulate in `SIMD16` lanes, because the compiler may not reorder
/// float additions and a scalar reduction would stay scalar.
public enum RowKernels {
    /// `x[r, :] += bias` for every row.
    public static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows { add(x + r * width, bias, width) }
    }

    /// `x[r, :] = row` for every row: a linear layer's bias, before a GEMM adds `x W^T` to it.
    public static func fillRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, with row: UnsafePointer<Float>) {
        for r in 0..<rows { (x + r * width).update(from: row, count: width) }
    }

    /// `output = gelu(input)` elementwise (they may be the same buffer), on the processor's widest
    /// vectors (`CKernels`: AVX-512, AVX2 + FMA or the baseline, chosen at run time).
    public static func gelu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        ckernels_gelu(CKERNELS_BEST, input, nil, output, 1, count)
    }

    /// `output = max(0, input)` elementwise (they may be the same buffer).
    public static func relu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        for j in 0..<count { output[j] = Swift.max(0, input[j]) }
    }

    /// `output = tanh(input)` elementwise (they may be the same buffer): BERT's pooler.
    public static func tanh(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        for j in 0..<count { output[j] = Foundation.tanh(input[j]) }
    }

    /// `x[r, :] = gelu(x[r, :] + bias)` with the exact (erf) GELU that BERT uses.
    public static func addBiasGELU(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
        ckernels_gelu(CKERNELS_BEST, x, bias, x, rows, width)
    }

    /// `x[r, :] = max(0, x[r, :] + bias)`.
    public static func addBiasReLU(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * width
            for j in 0..<width { row[j] = Swift.max(0, row[j] + bias[j]) }
        }
    }

    /// In place: `x[r, :] = layerNorm(x[r, :] + bias + residual[r, :]) * gamma + beta`.
    ///
    /// Fuses the output projection's bias and the residual connection into the normalisation
    /// pass, so each transformer sub-layer touches its activations once after its GEMM.
    /// `residual` and `bias` may be nil. For training, `saveNormalized` (`[rows, width]`) and
    /// `saveInverseStd` (`[rows]`) receive what the backward pass needs.
    public static func addLayerNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int,
        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float,
        saveNormalized: UnsafeMutablePointer<Float>? = nil, saveInverseStd: UnsafeMutablePointer<Float>? = nil
    ) {
        for r in 0..<rows {
            let row = x + r * width
            if let bias { add(row, bias, width) }
            if let residual { add(row, residual + r * width, width) }
            // Two passes (mean, then squared deviations), as PyTorch does: one pass would lose
            // precision on rows with a large mean, and the cost is of the order of the row read.
            let mean = sum(row, width) / Float(width)
            for j in 0..<width { row[j] -= mean }
            let inverseStd = 1 / (dot(row, row, width) / Float(width) + epsilon).squareRoot()
            if let saveNormalized {
                let normalized = saveNormalized + r * width
                for j in 0..<width { normalized[j] = row[j] * inverseStd }
                saveInverseStd?[r] = inverseStd
            }
            for j in 0..<width { row[j] = row[j] * inverseStd * gamma[j] + beta[j] }
        }
    }

    /// In place: softmax over each row of `x`, of which only the first `width` entries are read.
    /// On AVX2 (`CKernels`): attention's softmax was 8% of encoding time at SSE width, its
    /// maximum a scalar loop.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int) {
        ckernels_softmax(CKERNELS_BEST, x, rows, width, stride)
    }

    /// Scales each row to unit L2 norm (rows of zeros stay zero).
    public static func l2Normalize(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let row = x + r * width
            // Same floor as torch.nn.functional.normalize (eps 1e-12 on the norm).
            let norm = Swift.max(dot(row, row, width).squareRoot(), 1e-12)
            scale(row, by: 1 / norm, width)
        }
    }

    /// `x += y` over `width` floats.
    @inline(__always)
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ width: Int) {
        for j in 0..<width { x[j] += y[j] }
    }

    /// `x *= factor` over `width` floats.
    @inline(__always)
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, _ width: Int) {
        for j in 0..<width { x[j] *= factor }
    }

    /// Sum of `width` floats, accumulated in 16 lanes.
    @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, _ width: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var j = 0
        while j + 16 <= width { acc += load(x + j); j += 16 }
        var total = acc.sum()
        while j < width { total += x[j]; j += 1 }
        return total
    }

    /// Dot product of two `width`-float vectors, accumulated in 16 lanes.
    @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ width: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var j = 0
        while j + 16 <= width { acc += load(x + j) * load(y + j); j += 16 }
        var total = acc.sum()
        while j < width { total += x[j] * y[j]; j += 1 }
        return total
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
}
