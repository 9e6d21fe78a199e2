import Foundation
import MuLO
import Testing

@Suite("HDF5 files")
struct HDF5Tests {
    static let shapes: [[Int]] = [[], [1], [5], [3, 4], [2, 3, 4], [2, 1, 3, 2], [0]]

    func roundTrip<T: HDF5Element & Equatable>(_ make: (Int) -> T) throws {
        let dir = try Support.tempDir()
        let path = dir.appendingPathComponent("rt.h5").path
        let f = try HDF5File.create(path)
        for (i, shape) in Self.shapes.enumerated() {
            try f.write("g/sub/d\(i)", shape: shape, (0..<shape.reduce(1, *)).map(make))
        }
        try f.commit()
        let r = try HDF5File.open(path)
        for (i, shape) in Self.shapes.enumerated() {
            let (s, v) = try r.read("g/sub/d\(i)", as: T.self)
            #expect(s == shape)
            #expect(v == (0..<shape.reduce(1, *)).map(make))
        }
        #expect(try r.children("g/sub").count == Self.shapes.count)
    }

    @Test func roundTripsEveryDtypeAndRank() throws {
        try roundTrip { Float($0) * 0.25 - 1 }
        try roundTrip { Int32($0) - 7 }
        try roundTrip { Int64($0) * 1_000_000_007 }
        try roundTrip { UInt8($0 % 256) }
        try roundTrip { Double($0) / 3 }
    }

    @Test func attributesRoundTrip() throws {
        let path = try Support.tempDir().appendingPathComponent("a.h5").path
        let f = try HDF5File.create(path)
        try f.write("data/x", shape: [2], [Float(1), 2])
        try f.setAttribute("config", "{\"k\": \"μ\"}")
        try f.setAttribute("count", 42)
        try f.setAttribute("rate", 0.5, on: "data/x")
        try f.setAttribute("widths", [32, 64, 128], on: "data")
        try f.setAttribute("decays", [0.9, 0.99], on: "data")
        try f.setAttribute("names", ["a", "β"], on: "data")
        try f.setAttribute("count", 43)  // replacing an attribute
        try f.commit()
        let r = try HDF5File.open(path)
        #expect(try r.attributeString("config") == "{\"k\": \"μ\"}")
        #expect(try r.attributeInt("count") == 43)
        #expect(try r.attributeDouble("rate", on: "data/x") == 0.5)
        #expect(try r.attributeInts("widths", on: "data") == [32, 64, 128])
        #expect(try r.attributeDoubles("decays", on: "data") == [0.9, 0.99])
        #expect(try r.attributeStrings("names", on: "data") == ["a", "β"])
        #expect(r.hasAttribute("count") && !r.hasAttribute("nope"))
        #expect(throws: HDF5Error.self) { try r.attributeString("count") }
        #expect(throws: HDF5Error.self) { try r.attributeInt("config") }
    }

    @Test func extendibleDatasetsAppend() throws {
        let path = try Support.tempDir().appendingPathComponent("e.h5").path
        let f = try HDF5File.create(path)
        try f.createExtendible("metrics/loss", of: Float.self, chunk: 4)
        try f.append("metrics/loss", [Float(3), 2])
        try f.append("metrics/loss", (0..<10).map(Float.init))
        try f.createExtendible("metrics/step", of: Int64.self)
        try f.append("metrics/step", [Int64(7)])
        #expect(throws: HDF5Error.self) { try f.append("metrics/loss", [Int64(1)]) }
        try f.commit()
        let r = try HDF5File.open(path)
        #expect(try r.read("metrics/loss", as: Float.self).values == [3, 2] + (0..<10).map(Float.init))
        #expect(try r.read("metrics/step", as: Int64.self).values == [7])
    }

    /// HDF5 stores objects' times by default (whole seconds), so two writes a second apart would
    /// differ; MuLO's files are a function of their content (an export can be checked with `cmp`).
    @Test func sameContentIsSameBytes() throws {
        let dir = try Support.tempDir()
        func write(_ name: String) throws -> Data {
            let path = dir.appendingPathComponent(name).path
            let f = try HDF5File.create(path)
            try f.write("small/nested/x", shape: [3], [Float(1), 2, 3])
            try f.write("large/y", shape: [100, 100], [Float](repeating: 0.5, count: 10_000))
            try f.createGroup("empty/group")
            try f.createExtendible("metrics/loss", of: Float.self)
            try f.append("metrics/loss", [Float(3), 2])
            try f.setAttribute("config", "{}")
            try f.setAttribute("rate", 0.5, on: "small/nested")
            try f.commit()
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let first = try write("a.h5")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try write("b.h5") == first)
    }

    @Test func writesAreAtomic() throws {
        let dir = try Support.tempDir()
        let path = dir.appendingPathComponent("ckpt.h5").path
        let first = try HDF5File.create(path)
        try first.write("v", shape: [], [Float(1)])
        try first.commit()
        // A writer that never commits (a crash) leaves the old file intact and no temp file.
        do {
            let abandoned = try HDF5File.create(path)
            try abandoned.write("v", shape: [], [Float(2)])
        }
        #expect(try HDF5File.open(path).readScalar("v", as: Float.self) == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["ckpt.h5"])
        let second = try HDF5File.create(path)
        try second.write("v", shape: [], [Float(3)])
        try second.commit()
        #expect(try HDF5File.open(path).readScalar("v", as: Float.self) == 3)
    }

    @Test func badFilesGiveClearErrors() throws {
        let dir = try Support.tempDir()
        let good = dir.appendingPathComponent("good.h5").path
        let f = try HDF5File.create(good)
        try f.write("x", shape: [1000], [Float](repeating: 1, count: 1000))
        try f.commit()

        let garbage = dir.appendingPathComponent("garbage.h5").path
        try Data((0..<4096).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: garbage))
        let err1 = #expect(throws: HDF5Error.self) { try HDF5File.open(garbage) }
        #expect(err1?.file == garbage)

        let truncated = dir.appendingPathComponent("truncated.h5").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect(throws: HDF5Error.self) {
            let t = try HDF5File.open(truncated)
            _ = try t.read("x", as: Float.self)
        }

        #expect(throws: HDF5Error.self) { try HDF5File.open(dir.appendingPathComponent("missing.h5").path) }

        let r = try HDF5File.open(good)
        let missing = #expect(throws: HDF5Error.self) { try r.read("nope/x", as: Float.self) }
        #expect(missing?.object == "nope/x")
        let dtype = #expect(throws: HDF5Error.self) { try r.read("x", as: Int32.self) }
        #expect(dtype?.message.contains("float32") == true)
        #expect(throws: HDF5Error.self) { try r.read("x", as: Float.self, expectShape: [10, 100]) }
        #expect(throws: HDF5Error.self) { try HDF5File.create(dir.appendingPathComponent("no/such/dir.h5").path) }
    }

    /// h5dump (Debian's hdf5-tools) reads our strings as variable-length UTF-8, as h5py needs.
    @Test func stringsAreVariableLengthUTF8() throws {
        let path = try Support.tempDir().appendingPathComponent("s.h5").path
        let f = try HDF5File.create(path)
        try f.setAttribute("config", "{}")
        try f.commit()
        let r = try Support.run(URL(fileURLWithPath: "/usr/bin/h5dump"), ["-A", path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("H5T_VARIABLE"))
        #expect(r.stdout.contains("H5T_CSET_UTF8"))
    }
}
