/// A growable buffer with a stable address: the kernels take its pointer directly, with no
/// pinning closure and no copy-on-write. Growing discards the contents (every user overwrites
/// what it reads).
final class ScratchBuffer<T: Numeric>: @unchecked Sendable {
    private(set) var pointer: UnsafeMutablePointer<T>
    private(set) var capacity: Int

    init(_ count: Int = 0) {
        capacity = max(count, 1)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    subscript(i: Int) -> T {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    deinit { pointer.deallocate() }
}

/// Buffers of the fast step, grown to the largest tensor on the first step and then reused, so
/// later steps allocate nothing. Copies of a state get their own on first use (copy-on-write).
final class LOScratch: @unchecked Sendable {
    let rowG2 = ScratchBuffer<Double>(), colPartial = ScratchBuffer<Double>(), sums = ScratchBuffer<Double>()
    /// VeLO: each row block's shifted sums for the LSTM statistics (8 per block).
    let momentSums = ScratchBuffer<Double>()
    let fa = ScratchBuffer<Float>(), fb = ScratchBuffer<Float>(), termA = ScratchBuffer<Float>(), termB = ScratchBuffer<Float>()
    let rowFac = ScratchBuffer<Float>(), colFac = ScratchBuffer<Float>()
    /// One decay's column values and their rsqrt while the MLP sweep folds them into layer 0.
    let colFeatures = ScratchBuffer<Float>()
    /// One slice's R and C (k-major), gathered from a tensor's state and scattered back.
    let rSlice = ScratchBuffer<Float>(), cSlice = ScratchBuffer<Float>()
    /// Feature sums of squares and normalisers (one per feature), scaled layer-0 rows (one per
    /// kernel feature), row/column feature rows (6 each); `FastLOStep` sizes them.
    let featureSums = ScratchBuffer<Double>(), norms = ScratchBuffer<Float>()
    let w0p = ScratchBuffer<Float>(), aRows = ScratchBuffer<Float>(), bRows = ScratchBuffer<Float>()
    /// The MLP's layers 1–2 (w1, b1, w2, b2), copied once per step (per tensor for VeLO) so the kernels can point at them.
    let w1 = ScratchBuffer<Float>(), b1 = ScratchBuffer<Float>(), w2 = ScratchBuffer<Float>(), b2 = ScratchBuffer<Float>()
}
