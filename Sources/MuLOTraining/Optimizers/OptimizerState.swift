/// One named array of an optimizer's state in its stored shape.
public struct StateArray: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "state array \(name): \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// The state an optimizer keeps over one run, seen as integer counters and, per optimizee
/// tensor, named arrays: what meta-training checkpoints, MPI messages and resumable training runs
/// store, all in this one layout. Restoring what it gives continues the run exactly.
public protocol OptimizerState: Sendable {
    /// Named counters (checkpoint attributes of the copy's group, sent first over MPI).
    var counters: [(name: String, value: Int)] { get }
    mutating func setCounters(_ values: [Int]) throws
    /// The arrays of tensor `k` in stored order; `setArrays` takes values of the same shapes.
    func arrays(tensor k: Int) -> [StateArray]
    mutating func setArrays(tensor k: Int, _ values: [[Float]]) throws
    /// Arrays of the whole run rather than of one tensor (VeLO's loss buffer); none by default.
    var globalArrays: [StateArray] { get }
    mutating func setGlobalArrays(_ values: [[Float]]) throws
}

extension OptimizerState {
    public var globalArrays: [StateArray] { [] }

    public mutating func setGlobalArrays(_ values: [[Float]]) throws {
        guard values.isEmpty else { throw OptimizerError("this optimizer keeps no run-wide arrays, got \(values.count)") }
    }

    /// `values` checked against the arrays they replace, then taken apart into tensors.
    static func tensors(_ values: [[Float]], replacing old: [Tensor], _ what: String) throws -> [Tensor] {
        guard values.count == old.count, zip(values, old).allSatisfy({ $0.count == $1.count }) else {
            throw OptimizerError("\(what): arrays of sizes \(values.map(\.count)), expected \(old.map(\.count))")
        }
        return zip(values, old).map { Tensor(shape: $1.shape, data: $0) }
    }

    /// The one counter of a state that counts its updates, checked.
    static func updateCount(_ values: [Int], _ what: String) throws -> Int {
        guard values.count == 1, values[0] >= 0 else { throw OptimizerError("\(what): counters \(values), expected one count ≥ 0") }
        return values[0]
    }
}

extension Adam.State: OptimizerState {
    public var counters: [(name: String, value: Int)] { [("count", count)] }
    public mutating func setCounters(_ values: [Int]) throws { count = try Self.updateCount(values, "Adam's state") }
    public func arrays(tensor k: Int) -> [StateArray] {
        [StateArray(name: "m", shape: m[k].shape, values: m[k].data), StateArray(name: "v", shape: v[k].shape, values: v[k].data)]
    }
    public mutating func setArrays(tensor k: Int, _ values: [[Float]]) throws {
        let t = try Self.tensors(values, replacing: [m[k], v[k]], "Adam's state of tensor \(k)")
        (m[k], v[k]) = (t[0], t[1])
    }
}

extension SGD.State: OptimizerState {
    public var counters: [(name: String, value: Int)] { [("count", count)] }
    public mutating func setCounters(_ values: [Int]) throws { count = try Self.updateCount(values, "SGD's state") }
    public func arrays(tensor k: Int) -> [StateArray] {
        [StateArray(name: "velocity", shape: velocity[k].shape, values: velocity[k].data)]
    }
    public mutating func setArrays(tensor k: Int, _ values: [[Float]]) throws {
        velocity[k] = try Self.tensors(values, replacing: [velocity[k]], "SGD's state of tensor \(k)")[0]
    }
}

extension HDF5File {
    /// An optimizee's parameters and its optimizer's state under `group`: parameters under
    /// `params/<tensor>`, counters as the group's attributes, state arrays under
    /// `<stateGroup>/<tensor>/<array>` and run-wide ones under `<stateGroup>/@<array>` ('@' cannot
    /// start a tensor name).
    public func writeOptimization<S: OptimizerState>(params: [Tensor], state: S, specs: [ParameterSpec], group: String,
                                                      stateGroup: String) throws {
        for (name, value) in state.counters { try setAttribute(name, value, on: group) }
        for (k, (spec, t)) in zip(specs, params).enumerated() {
            try write("\(group)/params/\(spec.name)", t)
            for a in state.arrays(tensor: k) { try write("\(group)/\(stateGroup)/\(spec.name)/\(a.name)", shape: a.shape, a.values) }
        }
        for a in state.globalArrays { try write("\(group)/\(stateGroup)/@\(a.name)", shape: a.shape, a.values) }
    }

    /// What `writeOptimization` wrote, every array checked against the shape `optimizer` gives it.
    public func readOptimization<O: Optimizer>(optimizer: O, specs: [ParameterSpec], group: String,
                                               stateGroup: String) throws -> (params: [Tensor], state: O.State) {
        let params = try specs.map { try readTensor("\(group)/params/\($0.name)", expectShape: $0.shape) }
        var state = optimizer.initialState(for: params)
        try state.setCounters(try state.counters.map { try attributeInt($0.name, on: group) })
        for (k, spec) in specs.enumerated() {
            try state.setArrays(tensor: k, try state.arrays(tensor: k).map { a in
                try read("\(group)/\(stateGroup)/\(spec.name)/\(a.name)", as: Float.self, expectShape: a.shape).values
            })
        }
        try state.setGlobalArrays(try state.globalArrays.map { a in
            try read("\(group)/\(stateGroup)/@\(a.name)", as: Float.self, expectShape: a.shape).values
        })
        return (params, state)
    }
}
