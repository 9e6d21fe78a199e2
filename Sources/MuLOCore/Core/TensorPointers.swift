/// Pointers to every tensor's values at once, for models whose passes touch many parameters.
/// Valid only inside `body`.
public func withPointers<R>(_ tensors: [Tensor], _ body: ([UnsafePointer<Float>]) throws -> R) rethrows -> R {
    var pointers: [UnsafePointer<Float>] = []
    pointers.reserveCapacity(tensors.count)
    func nest(_ i: Int) throws -> R {
        if i == tensors.count { return try body(pointers) }
        return try tensors[i].data.withUnsafeBufferPointer { p in
            pointers.append(p.baseAddress!)
            return try nest(i + 1)
        }
    }
    return try nest(0)
}

/// Mutable pointers to every tensor's values at once (each tensor is a separate allocation, so
/// writing through one never touches another). Valid only inside `body`.
public func withMutablePointers<R>(_ tensors: inout [Tensor], _ body: ([UnsafeMutablePointer<Float>]) throws -> R) rethrows -> R {
    try tensors.withUnsafeMutableBufferPointer { ts in
        var pointers: [UnsafeMutablePointer<Float>] = []
        pointers.reserveCapacity(ts.count)
        func nest(_ i: Int) throws -> R {
            if i == ts.count { return try body(pointers) }
            return try ts[i].data.withUnsafeMutableBufferPointer { p in
                pointers.append(p.baseAddress!)
                return try nest(i + 1)
            }
        }
        return try nest(0)
    }
}
