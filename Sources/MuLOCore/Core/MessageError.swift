/// The library's errors: each a message naming what is wrong and where (the file, the object,
/// the field), printed as is by the command line. One type per concern, so callers can catch
/// one kind: `DataError`, `TaskError`, `OptimizerError`, `LOError`, `MetaConfigError`, `ResourceError`, `SafeTensors.FormatError`.
public struct MessageError<Concern>: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum DataConcern {}
public enum TaskConcern {}
public enum OptimizerConcern {}
public enum LearnedOptimizerConcern {}
public enum MetaConfigConcern {}
public enum SafeTensorsConcern {}
public enum ResourceConcern {}

/// Data problems, each saying what was expected and where, and how to fix it where we know.
public typealias DataError = MessageError<DataConcern>
public typealias TaskError = MessageError<TaskConcern>
/// An optimizer's state that does not fit it (a saved run, a checkpoint).
public typealias OptimizerError = MessageError<OptimizerConcern>
public typealias LOError = MessageError<LearnedOptimizerConcern>
public typealias MetaConfigError = MessageError<MetaConfigConcern>
/// Work this machine cannot hold (`MemoryBudget`).
public typealias ResourceError = MessageError<ResourceConcern>
