/// The outer training loop (learned_optimization's outer trainer): outer steps up to a stopping
/// point, a checkpoint every `checkpoint.interval` steps, at the stopping point and when asked to
/// stop. Under MPI every rank runs it and they stop together, on rank 0's word; rank 0 writes.
extension MetaTrainer {
    public struct LoopEnd: Sendable {
        /// True when `shouldStop` ended the loop before `stopStep`.
        public let interrupted: Bool
        /// The last checkpoint this loop wrote (rank 0), if any.
        public let lastCheckpoint: String?
    }

    /// Runs outer steps until `stopStep` (a stopping point only: checkpoints keep recording the
    /// configured budget). `afterStep(metaLoss)` is called after every step, on every rank.
    public func run(until stopStep: Int, checkpointsIn dir: String, shouldStop: () -> Bool,
                    afterStep: (Float) throws -> Void) throws -> LoopEnd {
        let isRoot = mpi?.isRoot ?? true
        var last: String?
        while state.outerStep < stopStep {
            let (loss, _) = try outerStep()
            try afterStep(loss)
            let s = state.outerStep
            let stopping = try mpi?.broadcast(shouldStop()) ?? shouldStop()
            if s % config.checkpoint.interval == 0 || s == stopStep || stopping {
                try gatherParticles()
                if isRoot { last = try MetaCheckpoint.checkpoint(self, in: dir) }
            }
            if stopping { return LoopEnd(interrupted: true, lastCheckpoint: last) }
        }
        return LoopEnd(interrupted: false, lastCheckpoint: last)
    }
}
