import DensekitTensor

/// What a training forward pass keeps for the backward pass, per layer.
///
/// Inference reuses one set of buffers for every layer (`EncoderWorkspace`); training needs
/// each layer's intermediates until its backward step, so they live here, one set per layer,
/// grown to the largest batch and reused across steps. Memory is about
/// `tokens * (9 h + 2 intermediate) * 4` bytes per layer plus the attention probabilities.
///
/// With `recomputesLayers` (activation checkpointing, Chen et al. 2016; Hugging Face's
/// `gradient_checkpointing`), the forward pass keeps only each layer's input, `tokens * h * 4`
/// bytes per layer, and the backward pass runs each layer forward again from its input, into
/// one shared set of buffers, just before backpropagating through it: activation memory drops
/// from `L` layers' worth to one, for about one more forward pass of compute. The gradient is
/// the same, bit for bit: the recomputation repeats the same operations on the same inputs.
public final class BertActivations {
    /// One layer's saved tensors.
    final class Layer {
        /// `[t, h]` the residual stream entering the layer.
        let input = FloatBuffer()
        /// `[t, 3h]` Q, K, V after bias.
        let qkv = FloatBuffer()
        /// Softmax probabilities of every (sequence, head), `[len, len]` each, back to back.
        let probabilities = FloatBuffer()
        /// `[t, h]` attention output before its projection.
        let context = FloatBuffer()
        /// `[t, h]` normalised (pre-gain) values and `[t]` inverse std of the first layer norm.
        let normalized1 = FloatBuffer(), inverseStd1 = FloatBuffer()
        /// `[t, h]` output of the attention sub-layer (after its layer norm).
        let attention = FloatBuffer()
        /// `[t, intermediate]` feed-forward pre-activation and activation.
        let preActivation = FloatBuffer(), activation = FloatBuffer()
        /// `[t, h]` and `[t]` of the second layer norm.
        let normalized2 = FloatBuffer(), inverseStd2 = FloatBuffer()
    }

    let layers: [Layer]
    /// Whether `forward` keeps only layer inputs and `backward` recomputes the rest.
    public let recomputesLayers: Bool
    /// Recomputation's buffers: one layer's intermediates, its (unused) output, and scratch.
    let recomputed = Layer(), recomputedOutput = FloatBuffer()
    let recomputeWorkspace = EncoderWorkspace()
    /// Embedding layer norm: normalised values and inverse std.
    let embeddingNormalized = FloatBuffer(), embeddingInverseStd = FloatBuffer()
    /// `[t, h]` the encoder's output.
    public let output = FloatBuffer()
    /// Offsets of each (sequence, head) block in `probabilities`, `count * heads + 1` entries.
    var probabilityOffsets: [Int] = []

    // Scratch for the backward pass, shared by all layers.
    /// `[t, h]` gradient of the residual stream, flowing down through the layers.
    let gradientStream = FloatBuffer()
    /// `[t, h]` gradients of the attention sub-layer's output and of a layer norm's input.
    let gradientAttention = FloatBuffer(), gradientNormInput = FloatBuffer()
    /// `[t, h]`, `[t, 3h]`, `[t, intermediate]`.
    let gradientContext = FloatBuffer(), gradientQKV = FloatBuffer(), gradientIntermediate = FloatBuffer()
    /// `[len, len]` one head's score gradient.
    let gradientScores = FloatBuffer()

    /// Empty storage for an encoder of `layerCount` layers; buffers grow on first use.
    ///
    /// - Parameter recomputesLayers: keep only layer inputs and recompute the rest in `backward`.
    public init(layerCount: Int, recomputesLayers: Bool = false) {
        layers = (0..<layerCount).map { _ in Layer() }
        self.recomputesLayers = recomputesLayers
    }

    /// Bytes held by the buffers (their capacities), for memory reports and tests.
    public var reservedBytes: Int {
        let perLayer = { (l: Layer) in
            [l.input, l.qkv, l.probabilities, l.context, l.normalized1, l.inverseStd1, l.attention, l.preActivation, l.activation,
             l.normalized2, l.inverseStd2].reduce(0) { $0 + $1.capacity }
        }
        let scratch = [embeddingNormalized, embeddingInverseStd, output, gradientStream, gradientAttention, gradientNormInput,
                       gradientContext, gradientQKV, gradientIntermediate, gradientScores, recomputedOutput].reduce(0) { $0 + $1.capacity }
        return 4 * (layers.reduce(0) { $0 + perLayer($1) } + perLayer(recomputed) + scratch)
    }
}
