import Foundation

/// Where `train` keeps an unfinished run so that a killed process loses at most `interval` of it,
/// and one asked to stop (`shouldStop`, polled before every step) nothing: at the start of a step,
/// the parameters, the optimizer's state, the curves so far and the time spent, in one file written
/// atomically. Batches are keyed by step and the state is restored whole, so the resumed run is the
/// run that was never interrupted. The caller removes the file once it has stored the finished run,
/// so that no instant holds neither.
public struct PartialRun: Sendable {
    public let path: String
    /// Wall time between saves.
    public var interval: TimeInterval
    /// Stop before this step, saved (what an interruption there leaves).
    public var stopBefore: Int?
    /// Stop before the next step, saved, once this says so (a SIGINT or SIGTERM).
    public var shouldStop: (@Sendable () -> Bool)?

    public init(path: String, interval: TimeInterval = 300, stopBefore: Int? = nil, shouldStop: (@Sendable () -> Bool)? = nil) {
        (self.path, self.interval, self.stopBefore, self.shouldStop) = (path, interval, stopBefore, shouldStop)
    }

    /// What a saved run holds.
    struct Saved<State: OptimizerState> {
        var step: Int
        var params: [Tensor]
        var state: State
        var result: TrainResult
    }

    static let kind = "mulo-partial-run"

    func save<S: OptimizerState>(_ s: Saved<S>, config: TrainConfig, task: any Task) throws {
        let f = try HDF5File.create(path)
        try s.result.writeRecord(f, kind: Self.kind, config: config)
        try f.setAttribute("next_step", s.step)
        try f.createGroup("run")
        try f.writeOptimization(params: s.params, state: s.state, specs: task.parameterSpecs, group: "run", stateGroup: "state")
        try f.commit()
    }

    /// The step the saved run of `config` resumes at; nil when there is none (or not of `config`).
    public func savedStep(config: TrainConfig) -> Int? {
        guard FileManager.default.fileExists(atPath: path), let f = try? HDF5File.open(path) else { return nil }
        defer { try? f.close() }
        return try? checked(f, config)
    }

    private func checked(_ f: HDF5File, _ config: TrainConfig) throws -> Int {
        guard (try? f.attributeString("kind")) == Self.kind else { throw TaskError("\(path) is not a partial training run") }
        let want = String(decoding: try JSONEncoder.sorted.encode(config), as: UTF8.self)
        guard try f.attributeString("config") == want else { throw TaskError("\(path) is a partial run of other settings") }
        return try f.attributeInt("next_step")
    }

    /// The saved run of `config` at `path`; nil when there is none. A file of another
    /// configuration or one that does not read is an error naming it (the caller starts afresh).
    func load<O: Optimizer>(config: TrainConfig, task: any Task, optimizer: O) throws -> Saved<O.State>? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let f = try HDF5File.open(path)
        defer { try? f.close() }
        let step = try checked(f, config)
        let result = try TrainResult.readRecord(f)
        // A run saves only at steps it has yet to take, one loss per step taken before.
        guard (1..<config.steps).contains(step), result.trainLoss.count == step, result.testSteps.allSatisfy({ $0 < step }) else {
            throw TaskError("\(path): next_step \(step) with \(result.trainLoss.count) losses is not a run of \(config.steps) steps saved mid-way")
        }
        let (params, state) = try f.readOptimization(optimizer: optimizer, specs: task.parameterSpecs, group: "run", stateGroup: "state")
        return Saved(step: step, params: params, state: state, result: result)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
