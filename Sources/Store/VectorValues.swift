/// The check every vector passes before it is trusted (`index verify`, `index rebuild`,
/// `index import`): finite values, and unit length for a model that normalizes.
public enum VectorValues {
    /// How far from 1 a normalized vector's length may be (float32 rounding of 384 squares is
    /// ~1e-6; a vector from an unnormalized model is typically far off).
    public static let normTolerance = 1e-3

    /// What is wrong with `values`, nil when nothing.
    public static func problem(_ values: UnsafeBufferPointer<Float>, normalized: Bool) -> String? {
        var squares: Double = 0
        var finite = true
        for x in values {
            finite = finite && x.isFinite
            squares += Double(x) * Double(x)
        }
        if !finite { return "vector holds NaN or infinite values" }
        if normalized, abs(squares.squareRoot() - 1) > normTolerance {
            return "vector norm \(squares.squareRoot()), but the model normalizes to 1"
        }
        return nil
    }
}
