import DensekitTensor

/// BERT's sequence-classification head (`BertForSequenceClassification`), read on each
/// sequence's first token, [CLS]; forward and backward side by side.
///
/// With `c` the [CLS] hidden state of a sequence (`[B, h]` over a batch):
///
///     pooled = tanh(c Wpᵀ + bp)           [B, h]      BertPooler
///     logits = pooled Wcᵀ + bc            [B, labels] classifier (dropout is off at inference
///                                                     and, here, in training too)
///
/// Backward, from `dlogits`:
///
///     dWc += dlogitsᵀ pooled,   dbc += Σ dlogits,   dpooled = dlogits Wc
///     dz = dpooled ⊙ (1 - pooled²)                     (tanh' from its output)
///     dWp += dzᵀ c,             dbp += Σ dz,        dc = dz Wp
///
/// and `dc` goes to row [CLS] of each sequence's hidden-state gradient; every other token's is 0.
public struct ClassificationHead: Sendable {
    public let parameters: BertParameters
    public let head: BertLayout.Head
    public var width: Int { parameters.layout.configuration.hiddenSize }
    public var labelCount: Int { head.labelCount }

    /// The head of `parameters`, whose layout must have one.
    public init?(parameters: BertParameters) {
        guard let head = parameters.layout.head else { return nil }
        self.parameters = parameters
        self.head = head
    }

    /// What the forward pass keeps for the backward pass (and reuses between batches).
    public final class Activations {
        /// `[B, h]` the [CLS] rows.
        let cls = FloatBuffer()
        /// `[B, h]` tanh output of the pooler.
        let pooled = FloatBuffer()
        public init() {}
    }

    /// Writes `[batch.count, labels]` logits for the encoder's output `hidden` (`[tokens, h]`).
    public func forward(hidden: UnsafePointer<Float>, batch: TokenBatch, activations a: Activations, into logits: UnsafeMutablePointer<Float>) {
        let h = width, b = batch.count, p = parameters
        let cls = a.cls.reserve(b * h), pooled = a.pooled.reserve(b * h)
        for s in 0..<b { (cls + s * h).update(from: hidden + batch.offsets[s] * h, count: h) }
        Linear.forward(cls, rows: b, inputWidth: h, outputWidth: h, weight: p.pointer(head.poolerWeight), bias: p.pointer(head.poolerBias), into: pooled)
        RowKernels.tanh(pooled, into: pooled, count: b * h)
        Linear.forward(pooled, rows: b, inputWidth: h, outputWidth: head.labelCount, weight: p.pointer(head.classifierWeight),
                       bias: p.pointer(head.classifierBias), into: logits)
    }

    /// Accumulates the head's parameter gradient into `parameterGradient` (laid out as
    /// `parameters.layout`) and writes the gradient on `hidden` (`[tokens, h]`) into `dHidden`.
    ///
    /// - Parameter logitGradient: `[batch.count, labels]`, `dL/dlogits`.
    public func backward(batch: TokenBatch, activations a: Activations, logitGradient: UnsafePointer<Float>,
                         parameterGradient grad: UnsafeMutablePointer<Float>, scratch: FloatBuffer, into dHidden: UnsafeMutablePointer<Float>) {
        let h = width, b = batch.count, p = parameters
        let pooled = a.pooled.pointer
        // Two [B, h] blocks: dz, then dc (the [CLS] rows' gradient, scattered at the end).
        let dz = scratch.reserve(2 * b * h), dc = dz + b * h
        Linear.backward(logitGradient, input: pooled, rows: b, inputWidth: h, outputWidth: head.labelCount,
                        weight: p.pointer(head.classifierWeight), weightGradient: grad + head.classifierWeight,
                        biasGradient: grad + head.classifierBias, inputGradient: dz)
        RowKernels.tanhBackward(dz, output: pooled, into: dz, count: b * h)
        dHidden.update(repeating: 0, count: batch.tokenCount * h)
        Linear.backward(dz, input: a.cls.pointer, rows: b, inputWidth: h, outputWidth: h, weight: p.pointer(head.poolerWeight),
                        weightGradient: grad + head.poolerWeight, biasGradient: grad + head.poolerBias, inputGradient: dc)
        for s in 0..<b { (dHidden + batch.offsets[s] * h).update(from: dc + s * h, count: h) }
    }
}
