import CHDF5
import CHDF5Shim

extension HDF5File {
    /// Writes a dataset of any rank (shape `[]` is a 0-d scalar); parent groups are created.
    public func write<T: HDF5Element>(_ objectPath: String, shape: [Int], _ values: [T]) throws {
        try withHDF5 {
            guard shape.reduce(1, *) == values.count else {
                throw HDF5Error(file: path, object: objectPath,
                                message: "shape \(shape) does not hold \(values.count) values")
            }
            let space = try dataspace(shape, maxShape: nil, objectPath)
            defer { H5Sclose(space) }
            try createParents(objectPath)
            let dcpl = try checksummedLayout(shape, elementSize: MemoryLayout<T>.size, objectPath)
            defer { H5Pclose(dcpl) }
            let dset = H5Dcreate2(id, objectPath, T.fileType, space, 0, dcpl, 0)
            guard dset >= 0 else { throw fail(objectPath, "cannot create dataset") }
            defer { H5Dclose(dset) }
            let status = values.withUnsafeBytes { H5Dwrite(dset, T.memoryType, 0, 0, 0, $0.baseAddress) }
            guard status >= 0 else { throw fail(objectPath, "cannot write dataset") }
        }
    }

    public func write(_ objectPath: String, _ tensor: Tensor) throws {
        try write(objectPath, shape: tensor.shape, tensor.data)
    }

    /// The shape of a dataset (`[]` for a scalar).
    public func shape(_ objectPath: String) throws -> [Int] {
        try withHDF5 {
            let dset = try openDataset(objectPath)
            defer { H5Dclose(dset) }
            return try datasetShape(dset, objectPath)
        }
    }

    /// Whether the dataset's stored type is exactly `T` (for readers that accept several types:
    /// they choose by type, so a read's own errors — size, truncation — are never swallowed).
    public func holds<T: HDF5Element>(_ objectPath: String, _: T.Type) throws -> Bool {
        try withHDF5 {
            let dset = try openDataset(objectPath)
            defer { H5Dclose(dset) }
            let type = H5Dget_type(dset)
            defer { H5Tclose(type) }
            return typeMatches(type, T.self)
        }
    }

    /// Reads a dataset, checking its stored type is exactly `T` and, if given, its shape.
    public func read<T: HDF5Element>(_ objectPath: String, as: T.Type = T.self,
                                     expectShape: [Int]? = nil) throws -> (shape: [Int], values: [T]) {
        try withHDF5 {
            let dset = try openDataset(objectPath)
            defer { H5Dclose(dset) }
            try checkType(dset, T.self, objectPath, "expected \(T.dtypeName)")
            let shape = try datasetShape(dset, objectPath)
            if let expected = expectShape, expected != shape {
                throw HDF5Error(file: path, object: objectPath,
                                message: "shape is \(shape), expected \(expected)")
            }
            var values = [T](repeating: T(), count: try elementCount(shape, objectPath))
            if !values.isEmpty {
                let status = values.withUnsafeMutableBytes {
                    H5Dread(dset, T.memoryType, 0, 0, 0, $0.baseAddress)
                }
                guard status >= 0 else { throw fail(objectPath, "cannot read dataset (truncated file?)") }
            }
            return (shape, values)
        }
    }

    public func readTensor(_ objectPath: String, expectShape: [Int]? = nil) throws -> Tensor {
        let (shape, values) = try read(objectPath, as: Float.self, expectShape: expectShape)
        return Tensor(shape: shape, data: values)
    }

    /// Reads a 0-d (or one-element) dataset.
    public func readScalar<T: HDF5Element>(_ objectPath: String, as: T.Type = T.self) throws -> T {
        let (shape, values) = try read(objectPath, as: T.self)
        guard values.count == 1 else {
            throw HDF5Error(file: path, object: objectPath, message: "expected a scalar, shape is \(shape)")
        }
        return values[0]
    }

    // MARK: Extendible 1-D datasets, for metrics appended during a run

    /// Creates an empty, chunked, unlimited 1-D dataset.
    public func createExtendible<T: HDF5Element>(_ objectPath: String, of: T.Type, chunk: Int = 1024) throws {
        try withHDF5 {
            let space = try dataspace([0], maxShape: [mulo_h5s_unlimited()], objectPath)
            defer { H5Sclose(space) }
            let dcpl = try untimed(H5Pcreate(mulo_h5p_dataset_create()), objectPath)
            defer { H5Pclose(dcpl) }
            var chunkDims = [hsize_t(chunk)]
            guard H5Pset_chunk(dcpl, 1, &chunkDims) >= 0, H5Pset_fletcher32(dcpl) >= 0 else { throw fail(objectPath, "cannot set chunking") }
            try createParents(objectPath)
            let dset = H5Dcreate2(id, objectPath, T.fileType, space, 0, dcpl, 0)
            guard dset >= 0 else { throw fail(objectPath, "cannot create extendible dataset") }
            H5Dclose(dset)
        }
    }

    /// Appends values to an extendible 1-D dataset.
    public func append<T: HDF5Element>(_ objectPath: String, _ values: [T]) throws {
        guard !values.isEmpty else { return }
        try withHDF5 {
            let dset = try openDataset(objectPath)
            defer { H5Dclose(dset) }
            try checkType(dset, T.self, objectPath, "cannot append \(T.dtypeName)")
            let old = try datasetShape(dset, objectPath)
            guard old.count == 1 else {
                throw HDF5Error(file: path, object: objectPath, message: "append needs a 1-D dataset, shape is \(old)")
            }
            var newSize = [hsize_t(old[0] + values.count)]
            guard H5Dset_extent(dset, &newSize) >= 0 else { throw fail(objectPath, "cannot extend dataset") }
            let fileSpace = H5Dget_space(dset)
            defer { H5Sclose(fileSpace) }
            var start = [hsize_t(old[0])], count = [hsize_t(values.count)]
            H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
            let memSpace = H5Screate_simple(1, &count, nil)
            defer { H5Sclose(memSpace) }
            let status = values.withUnsafeBytes {
                H5Dwrite(dset, T.memoryType, memSpace, fileSpace, 0, $0.baseAddress)
            }
            guard status >= 0 else { throw fail(objectPath, "cannot append to dataset") }
        }
    }

    // MARK: Helpers

    /// Where a dataset's values are checksummed: small ones (≤ 32 KiB) compact, inside the
    /// checksummed object header; larger ones in chunks of at most 16 MiB with a Fletcher-32
    /// filter, so a flipped data byte is a read error.
    func checksummedLayout(_ shape: [Int], elementSize: Int, _ objectPath: String) throws -> hid_t {
        let dcpl = try untimed(H5Pcreate(mulo_h5p_dataset_create()), objectPath)
        let bytes = shape.reduce(elementSize, *)
        let ok: Bool
        if bytes <= 32 << 10 {
            ok = H5Pset_layout(dcpl, H5D_COMPACT) >= 0
        } else {
            // Whole rows of the first axis per chunk.
            let row = shape.dropFirst().reduce(elementSize, *)
            var dims = shape.map { hsize_t($0) }
            dims[0] = hsize_t(max(1, min(shape[0], (16 << 20) / max(row, 1))))
            ok = H5Pset_chunk(dcpl, Int32(shape.count), &dims) >= 0 && H5Pset_fletcher32(dcpl) >= 0
        }
        guard ok else {
            H5Pclose(dcpl)
            throw fail(objectPath, "cannot set the dataset layout")
        }
        return dcpl
    }

    /// The element count of `shape` read from the file, or a clear error if it overflows or
    /// exceeds `CheckedSize.maxElements` — checked before any memory is taken.
    func elementCount(_ shape: [Int], _ objectPath: String) throws -> Int {
        guard let n = CheckedSize.product(shape) else {
            throw HDF5Error(file: path, object: objectPath, message: "shape \(shape) is larger than MuLO reads (at most \(CheckedSize.maxElements) elements)")
        }
        return n
    }

    /// Throws unless the dataset's stored type is exactly T.
    func checkType<T: HDF5Element>(_ dset: hid_t, _: T.Type, _ objectPath: String, _ what: String) throws {
        let type = H5Dget_type(dset)
        defer { H5Tclose(type) }
        guard typeMatches(type, T.self) else {
            throw HDF5Error(file: path, object: objectPath, message: "dtype is \(describeType(type)), \(what)")
        }
    }

    func openDataset(_ objectPath: String) throws -> hid_t {
        guard exists(objectPath) else {
            throw HDF5Error(file: path, object: objectPath, message: "no such dataset")
        }
        let dset = H5Dopen2(id, objectPath, 0)
        guard dset >= 0 else { throw fail(objectPath, "cannot open dataset (is it a group?)") }
        return dset
    }

    func datasetShape(_ dset: hid_t, _ objectPath: String) throws -> [Int] {
        let space = H5Dget_space(dset)
        guard space >= 0 else { throw fail(objectPath, "cannot read dataspace") }
        defer { H5Sclose(space) }
        return try extent(space, objectPath)
    }

    func extent(_ space: hid_t, _ objectPath: String) throws -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw fail(objectPath, "cannot read rank") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 { H5Sget_simple_extent_dims(space, &dims, nil) }
        return try dims.map { d in
            guard let n = Int(exactly: d) else { throw HDF5Error(file: path, object: objectPath, message: "dimension \(d) is out of range") }
            return n
        }
    }

    func dataspace(_ shape: [Int], maxShape: [hsize_t]?, _ objectPath: String) throws -> hid_t {
        let space: hid_t
        if shape.isEmpty {
            space = H5Screate(H5S_SCALAR)
        } else {
            var dims = shape.map { hsize_t($0) }
            if var maxDims = maxShape {
                space = H5Screate_simple(Int32(shape.count), &dims, &maxDims)
            } else {
                space = H5Screate_simple(Int32(shape.count), &dims, nil)
            }
        }
        guard space >= 0 else { throw fail(objectPath, "cannot create dataspace for shape \(shape)") }
        return space
    }
}
