import DensekitTensor

extension BertEncoder {
    /// Backpropagates through the encoder: accumulates into `parameterGradient` (one float per
    /// parameter, laid out as `parameters.layout`) the gradient of a loss whose gradient with
    /// respect to the encoder's output (`[tokens, h]`) is `outputGradient`.
    ///
    /// `activations` must come from `forward(batch, workspace:, activations:)` on the same
    /// batch with the same parameters. Each step mirrors one forward step, in reverse; the
    /// matrix products are GEMMs of the same shapes as the forward ones (`dW += dYᵀX`, `dX = dY W`).
    public func backward(_ batch: TokenBatch, activations a: BertActivations, outputGradient: UnsafePointer<Float>,
                         parameterGradient grad: UnsafeMutablePointer<Float>) {
        let c = configuration, layout = parameters.layout, p = parameters
        let h = c.hiddenSize, t = batch.tokenCount, inner = c.intermediateSize
        let dx = a.gradientStream.reserve(t * h)
        dx.update(from: outputGradient, count: t * h)
        let dAttention = a.gradientAttention.reserve(t * h)
        let dNorm = a.gradientNormInput.reserve(t * h)
        let dContext = a.gradientContext.reserve(t * h)
        let dQKV = a.gradientQKV.reserve(t * 3 * h)
        let dInner = a.gradientIntermediate.reserve(t * inner)

        for (index, l) in layout.layers.enumerated().reversed() {
            let input = a.layers[index].input.pointer
            let saved: BertActivations.Layer
            if a.recomputesLayers {
                // Run the layer again from its kept input, this time keeping its intermediates.
                saved = a.recomputed
                layerForward(index, batch, input: input, output: a.recomputedOutput.reserve(t * h), saved: saved,
                             offsets: a.probabilityOffsets, workspace: a.recomputeWorkspace)
            } else {
                saved = a.layers[index]
            }
            // x' = LN2(attention + act(attention Wiᵀ + bi) Woutᵀ + bout)
            RowKernels.layerNormBackward(dx, normalized: saved.normalized2.pointer, inverseStd: saved.inverseStd2.pointer,
                                         gamma: p.pointer(l.outputNormGamma), rows: t, width: h, into: dNorm,
                                         gammaGradient: grad + l.outputNormGamma, betaGradient: grad + l.outputNormBeta)
            linearBackward(dNorm, input: saved.activation.pointer, rows: t, inputWidth: inner, outputWidth: h,
                           weight: l.outputWeight, bias: l.outputBias, grad: grad, inputGradient: dInner, accumulate: false)
            switch c.activation {
            case .gelu: RowKernels.geluBackward(dInner, input: saved.preActivation.pointer, into: dInner, count: t * inner)
            case .relu: RowKernels.reluBackward(dInner, input: saved.preActivation.pointer, into: dInner, count: t * inner)
            }
            // The residual path carries dNorm to the attention output; the FFN adds its part.
            dAttention.update(from: dNorm, count: t * h)
            linearBackward(dInner, input: saved.attention.pointer, rows: t, inputWidth: h, outputWidth: inner,
                           weight: l.intermediateWeight, bias: l.intermediateBias, grad: grad, inputGradient: dAttention, accumulate: true)

            // attention = LN1(x + context Woᵀ + bo)
            RowKernels.layerNormBackward(dAttention, normalized: saved.normalized1.pointer, inverseStd: saved.inverseStd1.pointer,
                                         gamma: p.pointer(l.attentionNormGamma), rows: t, width: h, into: dNorm,
                                         gammaGradient: grad + l.attentionNormGamma, betaGradient: grad + l.attentionNormBeta)
            linearBackward(dNorm, input: saved.context.pointer, rows: t, inputWidth: h, outputWidth: h,
                           weight: l.attentionOutputWeight, bias: l.attentionOutputBias, grad: grad, inputGradient: dContext, accumulate: false)
            attentionBackward(batch, saved: saved, offsets: a.probabilityOffsets, contextGradient: dContext, into: dQKV, scratch: a.gradientScores)

            // The residual path carries dNorm to the layer input; Q, K and V add theirs.
            dx.update(from: dNorm, count: t * h)
            linearBackward(dQKV, input: input, rows: t, inputWidth: h, outputWidth: 3 * h,
                           weight: l.qkvWeight, bias: l.qkvBias, grad: grad, inputGradient: dx, accumulate: true)
        }
        embeddingBackward(batch, activations: a, gradient: dx, into: grad)
    }

    /// `Linear.backward` on the layer's weight and bias at offsets `weight` and `bias`.
    private func linearBackward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, rows: Int, inputWidth: Int, outputWidth: Int,
                                weight: Int, bias: Int, grad: UnsafeMutablePointer<Float>,
                                inputGradient dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        Linear.backward(dy, input: x, rows: rows, inputWidth: inputWidth, outputWidth: outputWidth, weight: parameters.pointer(weight),
                        weightGradient: grad + weight, biasGradient: grad + bias, inputGradient: dx, accumulate: accumulate)
    }

    /// Per sequence and head, with `P = softmax(S)`, `S = Q Kᵀ / √d`, `context = P V`:
    /// `dV = Pᵀ dcontext`, `dP = dcontext Vᵀ`, `dS = P ⊙ (dP - rowsum(P ⊙ dP))`,
    /// `dQ = dS K / √d`, `dK = dSᵀ Q / √d`, written into the Q, K, V column blocks of `dQKV`.
    private func attentionBackward(_ batch: TokenBatch, saved: BertActivations.Layer, offsets: [Int],
                                   contextGradient dContext: UnsafePointer<Float>, into dQKV: UnsafeMutablePointer<Float>, scratch: FloatBuffer) {
        let c = configuration
        let h = c.hiddenSize, d = c.headSize, heads = c.headCount
        let scale = 1 / Float(d).squareRoot()
        let qkv = saved.qkv.pointer, probabilities = saved.probabilities.pointer
        for s in 0..<batch.count {
            let start = batch.offsets[s], n = batch.length(of: s)
            let dScores = scratch.reserve(n * n)
            let rows = qkv + start * 3 * h, dRows = dQKV + start * 3 * h
            for head in 0..<heads {
                let probs = probabilities + offsets[s * heads + head]
                let dOut = dContext + start * h + head * d
                let q = rows + head * d, k = rows + h + head * d, v = rows + 2 * h + head * d
                BLAS.gemm(.transpose, .none, m: n, n: d, k: n, a: probs, lda: n, b: dOut, ldb: h, c: dRows + 2 * h + head * d, ldc: 3 * h)
                BLAS.gemm(.none, .transpose, m: n, n: n, k: d, a: dOut, lda: h, b: v, ldb: 3 * h, c: dScores, ldc: n)
                RowKernels.softmaxBackward(dScores, probabilities: probs, rows: n, width: n, stride: n)
                BLAS.gemm(.none, .none, m: n, n: d, k: n, alpha: scale, a: dScores, lda: n, b: k, ldb: 3 * h, c: dRows + head * d, ldc: 3 * h)
                BLAS.gemm(.transpose, .none, m: n, n: d, k: n, alpha: scale, a: dScores, lda: n, b: q, ldb: 3 * h, c: dRows + h + head * d, ldc: 3 * h)
            }
        }
    }

    /// Through the embedding layer norm, then scatter-add into the rows of the word, position
    /// and type embedding tables that the batch used.
    private func embeddingBackward(_ batch: TokenBatch, activations a: BertActivations, gradient dx: UnsafeMutablePointer<Float>,
                                   into grad: UnsafeMutablePointer<Float>) {
        let layout = parameters.layout, h = configuration.hiddenSize, t = batch.tokenCount
        let dEmbedding = a.gradientNormInput.reserve(t * h)
        RowKernels.layerNormBackward(dx, normalized: a.embeddingNormalized.pointer, inverseStd: a.embeddingInverseStd.pointer,
                                     gamma: parameters.pointer(layout.embeddingNormGamma), rows: t, width: h, into: dEmbedding,
                                     gammaGradient: grad + layout.embeddingNormGamma, betaGradient: grad + layout.embeddingNormBeta)
        let word = grad + layout.wordEmbeddings, position = grad + layout.positionEmbeddings, type = grad + layout.tokenTypeEmbeddings
        for s in 0..<batch.count {
            let start = batch.offsets[s]
            for token in start..<batch.offsets[s + 1] {
                let row = dEmbedding + token * h
                RowKernels.add(word + Int(batch.ids[token]) * h, row, h)
                RowKernels.add(position + (token - start) * h, row, h)
                RowKernels.add(type + Int(batch.typeIds[token]) * h, row, h)
            }
        }
    }
}
