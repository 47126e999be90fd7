import DensekitTensor
import DensekitTokenizer
import Foundation

extension SentenceEncoder {
    /// Everything besides the weights that changes this encoder's vectors, as a CRC-32: every
    /// config.json value the encoder uses, the tokenizer's settings and vocabulary (in id
    /// order), the special token ids, pooling and normalisation. Two folders with
    /// the same weights but another vocabulary or `layer_norm_eps` differ here; the same model
    /// saved again (keys reordered, comments) does not.
    public var architectureFingerprint: String {
        let c = configuration, t = tokenizer.configuration
        var text = "bert vocab=\(c.vocabularySize) hidden=\(c.hiddenSize) layers=\(c.layerCount) heads=\(c.headCount)"
        text += " intermediate=\(c.intermediateSize) positions=\(c.maxPositions) types=\(c.typeVocabularySize)"
        text += " eps=\(c.layerNormEpsilon.bitPattern) act=\(c.activation.rawValue)"
        text += " lower=\(t.lowercase) strip=\(t.stripsAccents) cjk=\(t.tokenizeChineseChars) clean=\(t.cleanText)"
        text += " chars=\(t.maxInputCharsPerWord) prefix=\(t.continuingSubwordPrefix) lowercaseInput=\(lowercaseInput)"
        text += " ids=\(tokenizer.clsId),\(tokenizer.sepId),\(tokenizer.padId),\(tokenizer.unkId)"
        text += " pooling=\(pooling.mode.rawValue) normalize=\(pooling.normalize)\n"
        var bytes = Array(text.utf8)
        for token in tokenizer.vocabulary {
            bytes.append(contentsOf: token.utf8)
            bytes.append(0x0A)
        }
        return "crc32:" + String(format: "%08x", bytes.withUnsafeBytes { CRC32.checksum($0) })
    }
}
