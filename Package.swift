// swift-tools-version: 6.1
// densekit: dense retrieval and contrastive indexing in Swift.
//
// Data flow, one module per stage:
//   Corpus -> Tokenizer -> Encoder -> (embeddings) -> Store (LMDB) -> Index (FAISS) -> Search -> Evaluation
// Tensor holds the BLAS-backed math the encoder and training share; the C and C++ bridges
// (COpenBLAS, CLMDB, CFaiss) are small targets of their own.
import PackageDescription

let package = Package(
    name: "densekit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "densekit", targets: ["DensekitCLI"]),
        .library(name: "Densekit", targets: ["DensekitCorpus", "DensekitTokenizer", "DensekitTensor", "DensekitEncoder", "DensekitStore", "DensekitIndex", "DensekitSearch", "DensekitEvaluation", "DensekitLosses", "DensekitTraining", "DensekitReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    ],
    targets: [
        // MARK: Bridges to system libraries (Debian: libopenblas-dev, liblmdb-dev, libfaiss-dev, libstemmer-dev).
        .systemLibrary(name: "COpenBLAS", path: "Sources/Bridges/COpenBLAS"),
        .systemLibrary(name: "CLMDB", path: "Sources/Bridges/CLMDB"),
        .systemLibrary(name: "CStemmer", path: "Sources/Bridges/CStemmer"),
        .target(name: "CCPU", path: "Sources/Bridges/CCPU"),
        .target(name: "CKernels", path: "Sources/Bridges/CKernels"),
        .target(
            name: "CFaiss",
            dependencies: ["CKernels"],
            path: "Sources/Bridges/CFaiss",
            cxxSettings: [.headerSearchPath("include"), .headerSearchPath("compat")],
            linkerSettings: [
                .linkedLibrary("faiss"), .linkedLibrary("openblas"), .linkedLibrary("lapack"),
                .linkedLibrary("gomp"), .linkedLibrary("stdc++"), .linkedLibrary("m"),
            ]
        ),

        // MARK: The pipeline.
        .target(name: "DensekitCorpus", path: "Sources/Corpus"),
        .target(name: "DensekitTokenizer", dependencies: ["CStemmer"], path: "Sources/Tokenizer"),
        .target(name: "DensekitTensor", dependencies: ["COpenBLAS", "CCPU", "CKernels"], path: "Sources/Tensor"),
        .target(
            name: "DensekitEncoder",
            dependencies: ["DensekitTokenizer", "DensekitTensor"],
            path: "Sources/Encoder"
        ),
        .target(name: "DensekitLosses", dependencies: ["DensekitTensor"], path: "Sources/Losses"),
        .target(
            name: "DensekitTraining",
            dependencies: ["DensekitTensor", "DensekitEncoder", "DensekitLosses", "DensekitTokenizer", "DensekitCorpus",
                           "DensekitEvaluation"],
            path: "Sources/Training"
        ),
        .target(name: "DensekitEvaluation", dependencies: ["DensekitCorpus"], path: "Sources/Evaluation"),
        .target(name: "DensekitStore", dependencies: ["CLMDB", "DensekitTensor"], path: "Sources/Store"),
        .target(
            name: "DensekitIndex",
            dependencies: ["CFaiss", "DensekitStore", "DensekitEncoder", "DensekitTensor", "DensekitTokenizer"],
            path: "Sources/Index"
        ),
        .target(
            name: "DensekitSearch",
            dependencies: ["DensekitCorpus", "DensekitEncoder", "DensekitStore", "DensekitIndex", "DensekitTensor"],
            path: "Sources/Search"
        ),
        .target(
            name: "DensekitServe",
            dependencies: [
                "DensekitCorpus", "DensekitEncoder", "DensekitStore", "DensekitIndex", "DensekitSearch",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Sources/Serve"
        ),
        // Reports read what evaluation scores and training logs: the top of the pipeline, beside the CLI.
        .target(name: "DensekitReport", dependencies: ["DensekitCorpus", "DensekitEvaluation", "DensekitTraining"], path: "Sources/Report"),
        .executableTarget(
            name: "DensekitCLI",
            dependencies: [
                "DensekitCorpus", "DensekitEncoder", "DensekitStore", "DensekitIndex", "DensekitSearch", "DensekitEvaluation", "DensekitLosses", "DensekitTraining",
                "DensekitServe", "DensekitReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CLI"
        ),

        // MARK: Tests.
        .target(name: "DensekitTestSupport", dependencies: ["DensekitEncoder", "DensekitTensor"], path: "Tests/Support"),
        .testTarget(name: "BridgeTests", dependencies: ["COpenBLAS", "CLMDB", "CFaiss", "DensekitTensor"], path: "Tests/BridgeTests"),
        .testTarget(
            name: "TokenizerTests", dependencies: ["DensekitTokenizer", "DensekitTestSupport"], path: "Tests/TokenizerTests",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "CLITests", dependencies: ["DensekitCLI", "DensekitStore", "DensekitTraining", "DensekitTestSupport"], path: "Tests/CLITests"
        ),
        .testTarget(
            name: "ServeTests", dependencies: ["DensekitServe", "DensekitSearch", "DensekitIndex", "DensekitEncoder", "DensekitTestSupport"], path: "Tests/ServeTests"
        ),
        .testTarget(name: "ReportTests", dependencies: ["DensekitReport", "DensekitEvaluation", "DensekitTraining", "DensekitTestSupport"], path: "Tests/ReportTests"),
        .testTarget(name: "CorpusTests", dependencies: ["DensekitCorpus", "DensekitTestSupport"], path: "Tests/CorpusTests"),
        .testTarget(
            name: "TrainingTests", dependencies: ["DensekitTraining", "DensekitLosses", "DensekitEncoder", "DensekitTensor", "DensekitTestSupport"], path: "Tests/TrainingTests"
        ),
        .testTarget(name: "LossTests", dependencies: ["DensekitLosses", "DensekitTensor"], path: "Tests/LossTests"),
        .testTarget(name: "OptimizerTests", dependencies: ["DensekitTraining", "DensekitTensor"], path: "Tests/OptimizerTests"),
        .testTarget(name: "EvaluationTests", dependencies: ["DensekitEvaluation", "DensekitTestSupport"], path: "Tests/EvaluationTests"),
        .testTarget(name: "StoreTests", dependencies: ["DensekitStore", "DensekitTestSupport"], path: "Tests/StoreTests"),
        .testTarget(
            name: "IndexTests", dependencies: ["DensekitIndex", "DensekitSearch", "DensekitEncoder", "DensekitTensor", "DensekitTestSupport"], path: "Tests/IndexTests"
        ),
        .testTarget(name: "LayoutTests", path: "Tests/LayoutTests"),
        .testTarget(name: "TensorTests", dependencies: ["DensekitTensor", "CKernels"], path: "Tests/TensorTests"),
        .testTarget(
            name: "EncoderTests", dependencies: ["DensekitEncoder", "DensekitTensor", "DensekitTokenizer", "DensekitTestSupport"], path: "Tests/EncoderTests",
            resources: [.copy("Fixtures")]
        ),
    ]
)
