/// What meta-training sends between MPI ranks, in the byte layout of `ByteWriter`: gradient
/// estimates every outer step, particles at checkpoints. A particle's learned-optimizer state goes
/// through its `LearnedOptimizerState` view, the same layout checkpoints use.
extension GradientEstimator.Estimate {
    func encode(into w: inout ByteWriter) {
        w.floats(gradient)
        w.float(loss)
        w.float(a)
        w.float(b)
        w.float(atBound)
    }

    static func decode(_ r: inout ByteReader) -> Self {
        let g = r.floats()
        return Self(gradient: g, loss: r.float(), a: r.float(), b: r.float(), atBound: r.float())
    }
}

extension Particle {
    func encode(into w: inout ByteWriter) {
        w.int(episodeStep)
        w.int(episodeLength)
        w.int(isDone ? 1 : 0)
        w.floats(xi)
        for c in [pos, neg] {
            c.lo.counters.forEach { w.int($0.value) }
            for t in c.params { w.floats(t.data) }
            for k in c.params.indices { c.lo.arrays(tensor: k).forEach { w.floats($0.values) } }
            c.lo.globalArrays.forEach { w.floats($0.values) }
        }
    }

    /// Decodes into `self`, whose shapes (from the same task) are already right. The bytes come
    /// from another rank of the same job, so a mismatch is a programming error.
    mutating func decode(_ r: inout ByteReader) {
        episodeStep = r.int()
        episodeLength = r.int()
        isDone = r.int() != 0
        xi = r.floats()
        for k in 0..<2 {
            var c = k == 0 ? pos : neg
            try! c.lo.setCounters(c.lo.counters.map { _ in r.int() })
            for i in c.params.indices { c.params[i].data = r.floats() }
            for i in c.params.indices { try! c.lo.setArrays(tensor: i, c.lo.arrays(tensor: i).map { _ in r.floats() }) }
            try! c.lo.setGlobalArrays(c.lo.globalArrays.map { _ in r.floats() })
            if k == 0 { pos = c } else { neg = c }
        }
    }
}
