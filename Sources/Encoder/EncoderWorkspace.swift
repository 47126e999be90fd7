import DensekitTensor

/// Scratch buffers for one worker's forward passes, reused from batch to batch.
///
/// One per thread; buffers grow to the largest batch seen and are then never reallocated.
public final class EncoderWorkspace {
    /// `[tokens, h]`: the residual stream; holds the final hidden states after `forward`.
    let hidden = FloatBuffer()
    /// `[tokens, 3h]`: queries, keys and values side by side.
    let qkv = FloatBuffer()
    /// `[tokens, h]`: attention output before its projection.
    let context = FloatBuffer()
    /// `[tokens, h]`: the residual stream after the attention sub-layer.
    let attention = FloatBuffer()
    /// `[tokens, intermediate]`: the feed-forward activations.
    let intermediate = FloatBuffer()
    /// `[length, length]`: one head's attention scores.
    let scores = FloatBuffer()
    /// `[tokens, h]`: training's gradient with respect to the hidden states.
    public let backwardScratch = FloatBuffer()
    /// A classification head's [CLS] rows and pooled values (cross-encoders).
    public let head = ClassificationHead.Activations()

    /// Empty buffers; they grow to the first batch's size.
    public init() {}
}
