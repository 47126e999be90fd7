import DensekitEncoder
import DensekitTensor
import DensekitTestSupport
import DensekitTokenizer
import Foundation
import Testing

/// Cross-encoders: the folders sentence-transformers and Hugging Face write (Fixtures/cross-encoders,
/// made by Benchmarks/make_cross_encoder_fixtures.py with sentence-transformers 6.2 and
/// transformers 5.24: one tiny BertForSequenceClassification saved three ways), their scores
/// against the reference, saving and reloading, starting a new head on an encoder, and the
/// head's and body's backward pass against finite differences.
@Suite struct CrossEncoderTests {
    struct Expected: Decodable {
        struct Pair: Decodable {
            let query: String, passage: String
            let input_ids: [Int32], token_type_ids: [Int32]
            let logit: Double
        }
        let pairs: [Pair]
        let scores: [String: [Double]]
        let max_length: Int
    }

    static func fixture(_ name: String) throws -> URL {
        let root = try #require(Bundle.module.url(forResource: "cross-encoders", withExtension: nil, subdirectory: "Fixtures"))
        return root.appendingPathComponent(name)
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixture("expected.json")))
    }

    /// Each layout loads as a cross-encoder with its activation, tokenizes pairs as Hugging Face
    /// does (longest-first truncation to 16, token types 0 then 1) and scores as
    /// sentence-transformers' CrossEncoder.predict does, to 1e-5 (the reference's own ways of
    /// computing agree to 1e-6; float32 sums in another order differ by about that).
    @Test(arguments: [("st6", CrossEncoder.Activation.sigmoid), ("st4", .identity), ("hf", .sigmoid)])
    func loadsEveryLayoutAndScoresLikeSentenceTransformers(name: String, activation: CrossEncoder.Activation) throws {
        let expected = try Self.expected()
        let folder = ModelFolder(try Self.fixture(name))
        #expect(try folder.kind() == .crossEncoder)
        let model = try folder.loadCrossEncoder()
        #expect(model.activation == activation)
        #expect(model.maxLength == expected.max_length)
        let pairs = expected.pairs.map { (query: $0.query, passage: $0.passage) }
        let encodings = model.tokenize(pairs: pairs)
        for (encoding, pair) in zip(encodings, expected.pairs) {
            #expect(encoding.ids == pair.input_ids, "\(pair.query) / \(pair.passage)")
            #expect(encoding.typeIds == pair.token_type_ids)
        }
        let reference = try #require(expected.scores[name])
        for threads in [1, 2] {
            let scores = model.scores(pairs, options: EncodeOptions(batchSize: 3, threads: threads))
            for (score, want) in zip(scores, reference) { #expect(abs(Double(score) - want) < 1e-5, "\(name): \(score) vs \(want)") }
            let logits = model.logits(tokenized: encodings, options: EncodeOptions(batchSize: 8, threads: threads))
            for (logit, pair) in zip(logits, expected.pairs) { #expect(abs(Double(logit) - pair.logit) < 1e-5) }
        }
        // A cross-encoder embeds nothing: asking it for a dual encoder says so.
        #expect(throws: ModelError.self) { try folder.loadDualEncoder() }
    }

    /// Saved in the 6.x layout and loaded back: same scores; the trained head is what is written.
    @Test func savesSentenceTransformers6LayoutWithTheTrainedHead() throws {
        let expected = try Self.expected()
        let model = try ModelFolder(try Self.fixture("st4")).loadCrossEncoder()
        let pairs = expected.pairs.map { (query: $0.query, passage: $0.passage) }
        let target = try TinyModel.temporaryFolder()
        try model.save(to: target)
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: target.appendingPathComponent("config_sentence_transformers.json"))) as? [String: Any]
        #expect(settings?["model_type"] as? String == "CrossEncoder")
        #expect(settings?["activation_fn"] as? String == "torch.nn.modules.linear.Identity")
        let weights = try SafeTensorsFile(url: target.appendingPathComponent("model.safetensors"))
        #expect(weights.tensors["bert.pooler.dense.weight"] != nil && weights.tensors["classifier.weight"]?.shape == [1, 24])
        let reloaded = try ModelFolder(target).loadCrossEncoder()
        #expect(reloaded.activation == .identity && reloaded.maxLength == model.maxLength)
        #expect(reloaded.scores(pairs) == model.scores(pairs))

        // Change the classifier bias: the saved folder must carry the new value.
        let trained = model.parameters.copy()
        let head = try #require(trained.layout.head)
        trained.values[head.classifierBias] += 1.5
        let second = try TinyModel.temporaryFolder()
        try model.save(to: second, parameters: trained)
        let shifted = try ModelFolder(second).loadCrossEncoder().scores(pairs)
        for (a, b) in zip(shifted, model.scores(pairs)) { #expect(abs(a - b - 1.5) < 1e-5) }
    }

    /// A new cross-encoder on a sentence encoder: the encoder's weights, a pooler initialised when
    /// the checkpoint has none, a classifier ~ N(0, 0.02²) with bias 0, all fixed by the seed.
    @Test func startsFromASentenceEncoderWithASeededHead() throws {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let a = try CrossEncoder.starting(from: ModelFolder(folder), seed: 1)
        let b = try CrossEncoder.starting(from: ModelFolder(folder), seed: 1)
        let c = try CrossEncoder.starting(from: ModelFolder(folder), seed: 2)
        let source = TinyModel.parameters()
        let layout = a.parameters.layout, head = try #require(layout.head)
        for slot in layout.slots(in: .encoder) {
            #expect(Array(UnsafeBufferPointer(start: a.parameters.values + slot.offset, count: slot.count))
                    == Array(UnsafeBufferPointer(start: source.values + slot.offset, count: slot.count)), "\(slot.name)")
        }
        let all = { (p: BertParameters) in Array(UnsafeBufferPointer(start: p.values, count: p.layout.count)) }
        #expect(all(a.parameters) == all(b.parameters))
        #expect(all(a.parameters) != all(c.parameters))
        let classifier = (0..<24).map { a.parameters.values[head.classifierWeight + $0] }
        #expect(a.parameters.values[head.classifierBias] == 0)
        let std = (classifier.reduce(0) { $0 + $1 * $1 } / 24).squareRoot()
        #expect(std > 0.005 && std < 0.05, "classifier std \(std)")
        // It scores pairs, and the saved folder loads as a cross-encoder.
        let target = try TinyModel.temporaryFolder()
        try a.save(to: target)
        #expect(try ModelFolder(target).loadCrossEncoder().scores([("the cat", "a dog")]) == a.scores([("the cat", "a dog")]))
    }

    /// The full model's backward pass (body and head) against central finite differences of
    /// L = Σ w_i logit_i, tensor by tensor along a random direction and along the gradient
    /// (tolerances as in BertBackwardTests).
    @Test func headAndBodyGradientsMatchFiniteDifferences() throws {
        let configuration = TinyModel.configuration
        var generator = SeededGenerator(seed: 11)
        let parameters = BertParameters(randomFor: BertLayout(configuration, classifierLabels: 1), scale: 0.3, using: &generator)
        let encoder = BertEncoder(parameters: parameters)
        let head = try #require(ClassificationHead(parameters: parameters))
        var batch = TokenBatch()
        for (ids, types) in [([2, 5, 9, 3, 12, 3], [0, 0, 0, 0, 1, 1]), ([2, 30, 3, 7, 8, 3], [0, 0, 0, 1, 1, 1]),
                             ([2, 7, 7, 3, 9, 10, 11, 3], [0, 0, 0, 0, 1, 1, 1, 1])] as [([Int32], [Int32])] {
            batch.append(ids: ids, typeIds: types)
        }
        let weights = (0..<batch.count).map { _ in Float.random(in: -1...1, using: &generator) }
        func loss() -> Double {
            let workspace = EncoderWorkspace()
            let hidden = encoder.forward(batch, workspace: workspace)
            var logits = [Float](repeating: 0, count: batch.count)
            logits.withUnsafeMutableBufferPointer { head.forward(hidden: hidden, batch: batch, activations: workspace.head, into: $0.baseAddress!) }
            return zip(logits, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let activations = BertActivations(layerCount: configuration.layerCount, recomputesLayers: false)
        let workspace = EncoderWorkspace(), headActivations = ClassificationHead.Activations()
        let hidden = encoder.forward(batch, workspace: workspace, activations: activations)
        var logits = [Float](repeating: 0, count: batch.count)
        logits.withUnsafeMutableBufferPointer { head.forward(hidden: hidden, batch: batch, activations: headActivations, into: $0.baseAddress!) }
        var gradient = [Float](repeating: 0, count: parameters.layout.count)
        var dHidden = [Float](repeating: 0, count: batch.tokenCount * configuration.hiddenSize)
        gradient.withUnsafeMutableBufferPointer { g in
            dHidden.withUnsafeMutableBufferPointer { dh in
                weights.withUnsafeBufferPointer { w in
                    head.backward(batch: batch, activations: headActivations, logitGradient: w.baseAddress!, parameterGradient: g.baseAddress!,
                                  scratch: FloatBuffer(), into: dh.baseAddress!)
                }
                encoder.backward(batch, activations: activations, outputGradient: UnsafePointer(dh.baseAddress!), parameterGradient: g.baseAddress!)
            }
        }
        let epsilon: Float = 3e-3
        let used = Set(batch.ids.map(Int.init)), h = configuration.hiddenSize
        for slot in parameters.layout.slots where !slot.name.hasSuffix("attention.self.key.bias") {
            let original = Array(UnsafeBufferPointer(start: parameters.values + slot.offset, count: slot.count))
            func derivative(along direction: [Float]) -> Double {
                for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] + epsilon * direction[k] }
                let plus = loss()
                for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] - epsilon * direction[k] }
                let minus = loss()
                for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] }
                return (plus - minus) / (2 * Double(epsilon))
            }
            var direction = (0..<slot.count).map { k -> Float in
                slot.name.contains("word_embeddings") && !used.contains(k / h) ? 0 : Float.random(in: -1...1, using: &generator)
            }
            let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
            direction = direction.map { $0 / norm }
            let analytic = (0..<slot.count).reduce(0.0) { $0 + Double(gradient[slot.offset + $1]) * Double(direction[$1]) }
            let numeric = derivative(along: direction)
            #expect(abs(numeric - analytic) <= 2e-3 + 0.02 * max(abs(numeric), abs(analytic)), "\(slot.name): fd \(numeric), analytic \(analytic)")
            let slotGradient = (0..<slot.count).map { Double(gradient[slot.offset + $0]) }
            let gradientNorm = slotGradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(gradientNorm > 2.1e-3, "\(slot.name): gradient norm \(gradientNorm) too small to check")
            let along = derivative(along: slotGradient.map { Float($0 / gradientNorm) })
            #expect(abs(along - gradientNorm) <= 2e-3 + 0.02 * gradientNorm, "\(slot.name): along the gradient \(along), norm \(gradientNorm)")
        }
    }
}
