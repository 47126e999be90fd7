import DensekitTensor

/// A BERT encoder's forward pass over packed token batches (inference).
///
/// Per layer: one GEMM for Q, K and V over all tokens; per sequence and head, a score GEMM,
/// a softmax and a context GEMM; one GEMM for the attention output, fused with its bias,
/// residual and layer norm; two GEMMs for the feed-forward block with fused bias + GELU and
/// bias + residual + layer norm. Everything else is row kernels over reused buffers.
public struct BertEncoder: Sendable {
    public let parameters: BertParameters
    public var configuration: BertConfiguration { parameters.layout.configuration }

    /// An encoder running `parameters` (shared, not copied).
    public init(parameters: BertParameters) {
        self.parameters = parameters
    }

    /// Runs the encoder over `batch`; returns the last layer's hidden states, `[tokens, h]`,
    /// stored in `workspace`: valid until the workspace's next use, and only while the caller
    /// keeps the workspace alive.
    ///
    /// - Precondition: every id is below the vocabulary size, every type id below the type
    ///   vocabulary size and every sequence no longer than `maxPositions` (the tokenizer and
    ///   `SentenceEncoder` guarantee this).
    ///
    /// - Parameter activations: for training, keeps every layer's intermediates for
    ///   `backward`; nil (inference) reuses the workspace's buffers layer after layer.
    public func forward(_ batch: TokenBatch, workspace ws: EncoderWorkspace, activations: BertActivations? = nil) -> UnsafeMutablePointer<Float> {
        let layout = parameters.layout
        let h = configuration.hiddenSize, t = batch.tokenCount
        if let activations { activations.probabilityOffsets = probabilityOffsets(batch) }
        var x = activations?.layers.first?.input.reserve(t * h) ?? ws.hidden.reserve(t * h)
        if layout.layers.isEmpty, let activations { x = activations.output.reserve(t * h) }
        embed(batch, into: x, saveNormalized: activations?.embeddingNormalized.reserve(t * h),
              saveInverseStd: activations?.embeddingInverseStd.reserve(t))

        for index in layout.layers.indices {
            // The layer's output: the next layer's saved input, the final output, or in place.
            let output: UnsafeMutablePointer<Float>
            if let activations {
                output = index + 1 < layout.layers.count ? activations.layers[index + 1].input.reserve(t * h) : activations.output.reserve(t * h)
            } else {
                output = x
            }
            // With recomputation only the layer inputs are kept; `backward` runs the layer again.
            let saved = activations.flatMap { $0.recomputesLayers ? nil : $0.layers[index] }
            layerForward(index, batch, input: x, output: output, saved: saved, offsets: activations?.probabilityOffsets ?? [], workspace: ws)
            x = output
        }
        return x
    }

    /// One transformer layer: `output = layer(input)` (`output` may be `input`, for inference).
    ///
    /// - Parameter saved: where to keep the intermediates for the backward pass (the attention
    ///   probabilities at `offsets`); nil reuses the workspace's buffers.
    func layerForward(_ index: Int, _ batch: TokenBatch, input x: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                      saved: BertActivations.Layer?, offsets: [Int], workspace ws: EncoderWorkspace) {
        let c = configuration, p = parameters, l = parameters.layout.layers[index]
        let h = c.hiddenSize, t = batch.tokenCount, i = c.intermediateSize
        let qkv = saved?.qkv.reserve(t * 3 * h) ?? ws.qkv.reserve(t * 3 * h)
        let context = saved?.context.reserve(t * h) ?? ws.context.reserve(t * h)
        let attention = saved?.attention.reserve(t * h) ?? ws.attention.reserve(t * h)
        let preActivation = saved?.preActivation.reserve(t * i) ?? ws.intermediate.reserve(t * i)
        // Inference applies the activation in place; training keeps its input for the backward pass.
        let activation = saved?.activation.reserve(t * i) ?? preActivation

        // Q, K, V = x Wqkv^T + b. The bias goes in first and the GEMM adds to it (beta 1):
        // OpenBLAS's beta-0 pass, which zeroes C, took 4% of encoding time.
        RowKernels.fillRows(qkv, rows: t, width: 3 * h, with: p.pointer(l.qkvBias))
        BLAS.gemm(.none, .transpose, m: t, n: 3 * h, k: h, a: x, lda: h, b: p.pointer(l.qkvWeight), ldb: h, beta: 1, c: qkv, ldc: 3 * h)
        var probabilities: (UnsafeMutablePointer<Float>, [Int])?
        if let saved, let total = offsets.last { probabilities = (saved.probabilities.reserve(total), offsets) }
        selfAttention(qkv: qkv, batch: batch, into: context, workspace: ws, probabilities: probabilities)

        // attention = LayerNorm(x + context Wo^T + bo).
        BLAS.gemm(.none, .transpose, m: t, n: h, k: h, a: context, lda: h, b: p.pointer(l.attentionOutputWeight), ldb: h, c: attention, ldc: h)
        RowKernels.addLayerNorm(attention, rows: t, width: h, bias: p.pointer(l.attentionOutputBias), residual: x,
                                gamma: p.pointer(l.attentionNormGamma), beta: p.pointer(l.attentionNormBeta), epsilon: c.layerNormEpsilon,
                                saveNormalized: saved?.normalized1.reserve(t * h), saveInverseStd: saved?.inverseStd1.reserve(t))

        // x' = LayerNorm(attention + act(attention Wi^T + bi) Wout^T + bout).
        RowKernels.fillRows(preActivation, rows: t, width: i, with: p.pointer(l.intermediateBias))
        BLAS.gemm(.none, .transpose, m: t, n: i, k: h, a: attention, lda: h, b: p.pointer(l.intermediateWeight), ldb: h,
                  beta: 1, c: preActivation, ldc: i)
        switch c.activation {
        case .gelu: RowKernels.gelu(preActivation, into: activation, count: t * i)
        case .relu: RowKernels.relu(preActivation, into: activation, count: t * i)
        }
        BLAS.gemm(.none, .transpose, m: t, n: h, k: i, a: activation, lda: i, b: p.pointer(l.outputWeight), ldb: i, c: output, ldc: h)
        RowKernels.addLayerNorm(output, rows: t, width: h, bias: p.pointer(l.outputBias), residual: attention,
                                gamma: p.pointer(l.outputNormGamma), beta: p.pointer(l.outputNormBeta), epsilon: c.layerNormEpsilon,
                                saveNormalized: saved?.normalized2.reserve(t * h), saveInverseStd: saved?.inverseStd2.reserve(t))
    }

    /// Where each (sequence, head) block of attention probabilities starts when they are kept.
    func probabilityOffsets(_ batch: TokenBatch) -> [Int] {
        var offsets = [0]
        offsets.reserveCapacity(batch.count * configuration.headCount + 1)
        for s in 0..<batch.count {
            let n = batch.length(of: s)
            for _ in 0..<configuration.headCount { offsets.append(offsets[offsets.count - 1] + n * n) }
        }
        return offsets
    }

    /// `x = LayerNorm(word[id] + position[p] + type[tt])` for every token.
    private func embed(_ batch: TokenBatch, into x: UnsafeMutablePointer<Float>,
                       saveNormalized: UnsafeMutablePointer<Float>?, saveInverseStd: UnsafeMutablePointer<Float>?) {
        let c = configuration, layout = parameters.layout, p = parameters
        let h = c.hiddenSize
        let word = p.pointer(layout.wordEmbeddings), position = p.pointer(layout.positionEmbeddings)
        let type = p.pointer(layout.tokenTypeEmbeddings)
        batch.ids.withUnsafeBufferPointer { ids in
            batch.typeIds.withUnsafeBufferPointer { types in
                for s in 0..<batch.count {
                    let start = batch.offsets[s]
                    for token in start..<batch.offsets[s + 1] {
                        let row = x + token * h
                        row.update(from: word + Int(ids[token]) * h, count: h)
                        RowKernels.add(row, position + (token - start) * h, h)
                        RowKernels.add(row, type + Int(types[token]) * h, h)
                    }
                }
            }
        }
        RowKernels.addLayerNorm(x, rows: batch.tokenCount, width: h, bias: nil, residual: nil,
                                gamma: p.pointer(layout.embeddingNormGamma), beta: p.pointer(layout.embeddingNormBeta),
                                epsilon: c.layerNormEpsilon, saveNormalized: saveNormalized, saveInverseStd: saveInverseStd)
    }

    /// Multi-head scaled dot-product attention, sequence by sequence, head by head.
    ///
    /// - Parameter probabilities: storage (and block offsets) to keep each head's softmax
    ///   output for the backward pass; nil reuses one scratch block.
    private func selfAttention(qkv: UnsafeMutablePointer<Float>, batch: TokenBatch, into context: UnsafeMutablePointer<Float>,
                               workspace ws: EncoderWorkspace, probabilities: (UnsafeMutablePointer<Float>, [Int])?) {
        let c = configuration
        let h = c.hiddenSize, d = c.headSize
        let scale = 1 / Float(d).squareRoot()
        for s in 0..<batch.count {
            let start = batch.offsets[s], n = batch.length(of: s)
            let scratch = ws.scores.reserve(n * n)
            let rows = qkv + start * 3 * h
            for head in 0..<c.headCount {
                let scores = probabilities.map { $0.0 + $0.1[s * c.headCount + head] } ?? scratch
                let q = rows + head * d, k = rows + h + head * d, v = rows + 2 * h + head * d
                // scores = Q K^T / sqrt(d); softmax over keys; context = scores V.
                BLAS.gemm(.none, .transpose, m: n, n: n, k: d, alpha: scale, a: q, lda: 3 * h, b: k, ldb: 3 * h, c: scores, ldc: n)
                RowKernels.softmax(scores, rows: n, width: n, stride: n)
                BLAS.gemm(.none, .none, m: n, n: d, k: n, a: scores, lda: n, b: v, ldb: 3 * h, c: context + start * h + head * d, ldc: h)
            }
        }
    }
}
