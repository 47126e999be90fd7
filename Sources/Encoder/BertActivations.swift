import DensekitTensor

/// What a training forward pass keeps for the backward pass, per layer.
///
/// Inference reuses one set of buffers for every layer (`EncoderWorkspace`); training needs
/// each layer's intermediates until its backward step, so they live here, one set per layer,
/// grown to the largest batch and reused across steps. Memory is about
/// `tokens * (9 h + 2 intermediate) * 4` bytes per layer plus the attention probabilities.
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
    public init(layerCount: Int) {
        layers = (0..<layerCount).map { _ in Layer() }
    }
}
