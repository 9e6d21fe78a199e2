import CKernels

/// What the fast step needs to know of an architecture's per-parameter MLP: its width, how its
/// features are numbered, and which instantiation of the C sweeps (`lo_step_body.h`) computes
/// them. Both architectures keep the same accumulators and factored features, so the sweeps and
/// the O(rows + cols) work between them are shared; only this numbering differs.
struct LOKernelLayout: Sendable {
    typealias Sweep1Matrix = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                                             UnsafeMutablePointer<Float>?, Int, Int, Int, Int, Int, UnsafePointer<Float>?, Float,
                                             UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?,
                                             UnsafeMutablePointer<Double>?, UnsafePointer<Float>?, UnsafeMutablePointer<Double>?) -> Void
    typealias Sweep2Matrix = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Int, Int, Int, Int, Int, Int,
                                             UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Double>?) -> Void
    typealias ApplyMatrix = @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafePointer<Float>?,
                                            UnsafePointer<Float>?, Int, Int, Int, Int, Int, Int, UnsafePointer<Float>?,
                                            UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                            UnsafePointer<mulo_lo_mlp>?) -> Void
    typealias Sweep1Vector = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                                             UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, Int, Int, Int,
                                             UnsafePointer<Float>?, Float, UnsafePointer<Float>?, UnsafeMutablePointer<Double>?) -> Void
    typealias ApplyVector = @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafePointer<Float>?,
                                            UnsafePointer<Float>?, UnsafePointer<Float>?, Int, Int, Int, UnsafePointer<Float>?,
                                            UnsafePointer<mulo_lo_mlp>?) -> Void

    /// The MLP's hidden width (the C instantiation's H) and its number of normalised features.
    let hidden: Int, featureCount: Int
    /// The feature of each of sweep 1's element sums on a matrix (the kernel's order).
    let sweep1Features: [Int]
    /// The features of sweep 2's sums: g·facMom_k and M_k·facMom_k.
    let facG: [Int], facMom: [Int]
    /// The broadcast features: R_k and rsqrt(R_k + 1e-8), C_k and rsqrt(C_k + 1e-8).
    let rValue: [Int], rRsqrt: [Int], cValue: [Int], cRsqrt: [Int]
    /// The parameter's own feature p (its sum of squares also gives VeLO's RMS(p)).
    let paramFeature: Int
    /// The layer-0 rows (features) of each per-element feature of a matrix and a vector tile;
    /// several rows where one kernel feature stands for identical ones (rank ≤ 1: R = C = Vd).
    let matrixRows: [[Int]], vectorRows: [[Int]]
    /// For each feature, its sum's index in the vector sweep's output.
    let vectorSumOrder: [Int]
    let sweep1Matrix: Sweep1Matrix, sweep2Matrix: Sweep2Matrix, applyMatrix: ApplyMatrix
    let sweep1Vector: Sweep1Vector, applyVector: ApplyVector

    var sweep1Count: Int { sweep1Features.count }
    var vectorSumCount: Int { vectorSumOrder.max()! + 1 }
}
