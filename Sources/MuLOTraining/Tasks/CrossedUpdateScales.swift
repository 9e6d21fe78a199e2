extension TaskSpec {
    /// The update scales s_W an optimizer of parametrization `p` applies to this task: nil when
    /// `p` is the task's own (the task supplies them), else those of the task's `p` twin. The
    /// scales are the optimizer's update rule (METHOD §3) even though tasks hand them out, so a
    /// cross-check — an SP network trained by a μLO, a μP one by an SP LO — keeps them.
    public func updateScales(of p: Parametrization, dataDir: String?) throws -> [Float]? {
        guard p != parametrization else { return nil }
        return try with(width: width, depth: depth, parametrization: p).makeTask(dataDir: dataDir).updateScales
    }
}
