import CFaiss
import DensekitTensor

extension FaissIndex {
    /// How an HNSW or flat index computes distances between float vectors.
    ///
    /// Debian's libfaiss is compiled for the x86-64 baseline, so its own distance loops are
    /// scalar. densekit puts its own storage under HNSW and flat indexes, with AVX2/FMA and
    /// AVX-512 kernels chosen for the processor at run time; the index file stays a standard
    /// FAISS file (the storage is re-attached when it is read).
    public enum DistanceKernel: String, Sendable, CaseIterable, CustomStringConvertible {
        /// FAISS's own storage and distance functions.
        case faiss
        /// densekit's storage with plain loops (a reference for tests).
        case scalar
        /// densekit's storage, AVX2 + FMA.
        case avx2
        /// densekit's storage, AVX-512F.
        case avx512

        init?(code: Int32) {
            switch code {
            case CFAISS_DISTANCES_FAISS: self = .faiss
            case CFAISS_DISTANCES_SCALAR: self = .scalar
            case CFAISS_DISTANCES_AVX2: self = .avx2
            case CFAISS_DISTANCES_AVX512: self = .avx512
            default: return nil
            }
        }

        var code: Int32 {
            switch self {
            case .faiss: CFAISS_DISTANCES_FAISS
            case .scalar: CFAISS_DISTANCES_SCALAR
            case .avx2: CFAISS_DISTANCES_AVX2
            case .avx512: CFAISS_DISTANCES_AVX512
            }
        }

        /// Whether this processor runs the kernel.
        public var isSupported: Bool { cfaiss_distances_supported(code) != 0 }

        /// The kernel new and loaded indexes get on this processor.
        public static var best: DistanceKernel { DistanceKernel(code: cfaiss_distances_best()) ?? .faiss }

        public var description: String {
            switch self {
            case .faiss: "FAISS's own (scalar in Debian's build)"
            case .scalar: "densekit scalar"
            case .avx2: "densekit AVX2/FMA"
            case .avx512: "densekit AVX-512"
            }
        }
    }

    /// A line for `densekit system`: the kernel HNSW and flat indexes get here.
    public static var distanceKernels: String {
        let best = DistanceKernel.best
        let supported = DistanceKernel.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", ")
        return "\(best) for HNSW, small flat searches, k-means and IVF list choice (kernels here: \(supported))"
    }

    /// The index's distance kernel (an IVF index's: its coarse quantizer's); nil when it has no
    /// flat float storage (PQ, IVF over an HNSW quantizer, ...).
    public var distanceKernel: DistanceKernel? { DistanceKernel(code: cfaiss_index_distances(handle)) }

    /// Switches the index's storage to `kernel` (for comparisons and tests; new and loaded
    /// indexes already have the best one).
    public func setDistanceKernel(_ kernel: DistanceKernel) throws(IndexError) {
        try Self.check(cfaiss_index_set_distances(handle, kernel.code), "distance kernel \(kernel.rawValue)")
    }
}

extension FaissIndex {
    /// Which code searches and builds an HNSW index that has densekit's storage.
    public enum HNSWCode: String, Sendable, CaseIterable {
        /// densekit's implementation of FAISS 1.7.3's search and insertion: the same steps, with
        /// neighbour vectors prefetched and distances computed four at a time (the default).
        case densekit
        /// FAISS's own `IndexHNSW::search` and `IndexHNSW::add`, one distance at a time.
        case faiss
    }

    /// Chooses the HNSW search and build code for this index (for comparisons and tests).
    public func setHNSWCode(_ code: HNSWCode) throws(IndexError) {
        try Self.check(cfaiss_index_set_faiss_hnsw(handle, code == .faiss ? 1 : 0), "HNSW code \(code.rawValue)")
    }
}

/// A FAISS index answers the same k-nearest-neighbour calls as `ExactSearch`.
extension FaissIndex: VectorSearch {}
