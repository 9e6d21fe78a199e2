import Foundation
import MuLO
import Testing

@Suite("Export and import")
struct ExportTests {
    static let theta: LOTheta = {
        var t = LOTheta.initial(key: RNGKey(seed: 11))
        t.momentumDecays.data = [0.1, -0.2, 0.3]
        t.rmsDecays.data = [0.05]
        t.adafactorDecays.data = [-0.1, 0.2, 1e-7]
        t.b0.data[3] = -0.0  // signed zero and odd values survive
        t.w2.data[5] = .leastNonzeroMagnitude
        return t
    }()

    @Test(arguments: [Parametrization.mup, .standard])
    func pyloRoundTripIsBitExact(parametrization: Parametrization) throws {
        let dir = try Support.tempDir().appendingPathComponent("pylo").path
        let config = LOConfig(parametrization: parametrization)
        _ = try LOExport.write(Self.theta, config: config, format: .pylo, to: dir, source: "test")
        let (theta, back, decaysFrom) = try LOExport.importPyLO(dir)
        #expect(decaysFrom == LOExport.sidecarName)
        #expect(theta.flat.map(\.bitPattern) == Self.theta.flat.map(\.bitPattern))
        #expect(back == config)
        // config.json: MetaMLP's arguments first, then PyLO's constructor arguments; enough alone.
        let json = try String(contentsOfFile: "\(dir)/config.json", encoding: .utf8)
        #expect(json.hasPrefix("{\n  \"input_size\": 39,\n  \"hidden_size\": 32,\n  \"hidden_layers\": 1,\n  \"step_mult\": "))
        try FileManager.default.removeItem(atPath: "\(dir)/\(LOExport.sidecarName)")
        let (alone, aloneConfig, aloneFrom) = try LOExport.importPyLO(dir)
        #expect(aloneFrom == "config.json" && aloneConfig == config)
        #expect(alone.flat.map(\.bitPattern) == Self.theta.flat.map(\.bitPattern))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/model.safetensors")))
        // u64 header length, header padded so the data is 8-aligned, 9,608 bytes of data (METHOD §7.2).
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + n) % 8 == 0 && bytes.count - 8 - n == 9608)
        let (tensors, _) = try SafeTensors.decode(bytes)
        #expect(tensors["network.input.weight"]!.shape == [32, 39])
        #expect(tensors["network.input.weight"]![1, 0] == Self.theta.w0[0, 1])  // transposed to [out, in]
    }

    /// A directory with PyLO's published three-key config.json and no sidecar gets PyLO's default decays.
    @Test func importWithoutConstantsUsesTheShippedDecays() throws {
        let dir = try Support.tempDir().appendingPathComponent("pylo").path
        _ = try LOExport.write(Self.theta, config: .mu, format: .pylo, to: dir, source: "test")
        try FileManager.default.removeItem(atPath: "\(dir)/\(LOExport.sidecarName)")
        try "{\n  \"input_size\": 39,\n  \"hidden_size\": 32,\n  \"hidden_layers\": 1\n}".write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
        let (theta, config, decaysFrom) = try LOExport.importPyLO(dir)
        #expect(decaysFrom == nil && config == LOConfig.mu)
        #expect(theta.momentumDecays.data == [0.15216392, 0.14245212, 0.06812963])
        #expect(theta.adafactorDecays.data == [0.18621896, -0.10864615, -0.06185547])
        #expect(theta.w1 == Self.theta.w1)
    }

    /// Each mutation breaks the file by construction; every one must be a clear error.
    @Test func mutatedSafetensorsAreAllRejected() throws {
        var tensors: [String: Tensor] = [:]
        for (name, shape) in [("network.input.weight", [32, 39]), ("network.input.bias", [32]),
                              ("network.linear_0.weight", [32, 32]), ("network.linear_0.bias", [32]),
                              ("network.output.weight", [2, 32]), ("network.output.bias", [2])] {
            tensors[name] = Tensor(shape: shape, repeating: 0.5)
        }
        let good = SafeTensors.encode(tensors)
        let expect = tensors.mapValues(\.shape)
        _ = try SafeTensors.decode(good, expect: expect)
        let n = good[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = String(decoding: good[8..<(8 + n)], as: UTF8.self)
        func withHeader(_ h: String, data: ArraySlice<UInt8>? = nil) -> [UInt8] {
            let body = Array(h.utf8)
            var out = [UInt8]()
            withUnsafeBytes(of: UInt64(body.count).littleEndian) { out += $0 }
            return out + body + (data ?? good[(8 + n)...])
        }
        let key = RNGKey(seed: 42)
        var rejected = 0
        for trial in 0..<400 {
            let k = key.split(UInt64(trial))
            func pick(_ m: Int, _ i: UInt64 = 0) -> Int { k.integer(below: m, at: i) }
            var bad: [UInt8]
            switch trial % 10 {
            case 0: bad = Array(good.prefix(pick(good.count)))                                    // truncated
            case 1:                                                                               // length too large
                bad = good
                let len = UInt64(n + 1 + pick(1 << 20))
                for i in 0..<8 { bad[i] = UInt8((len >> (8 * UInt64(i))) & 0xFF) }
            case 2:                                                                               // length cuts the JSON
                bad = good
                let len = UInt64(pick(n - 40))
                for i in 0..<8 { bad[i] = UInt8((len >> (8 * UInt64(i))) & 0xFF) }
            case 3:                                                                               // bad JSON
                let structural = header.indices.filter { "{}[]:,\"".contains(header[$0]) }
                var h = header
                let i = structural[pick(structural.count)]
                h.replaceSubrange(i...i, with: "x")
                bad = withHeader(h)
            case 4: bad = withHeader(header.replacingOccurrences(of: "F32", with: ["F16", "BF16", "I32", "F64", "U8"][pick(5)]))
            case 5:                                                                               // overlapping offsets
                bad = withHeader(header.replacingOccurrences(of: "\"data_offsets\":[128,", with: "\"data_offsets\":[\(pick(120)),"))
            case 6:                                                                               // out-of-range offsets
                let end = good.count - 8 - n
                bad = withHeader(header.replacingOccurrences(of: ",\(end)]", with: ",\(end + 1 + pick(100))]"))
            case 7:                                                                               // missing tensor
                let names = expect.keys.sorted()
                bad = withHeader(header.replacingOccurrences(of: "\"\(names[pick(names.count)])\"", with: "\"renamed.\(trial)\""))
            case 8: bad = withHeader(header.replacingOccurrences(of: "[32,39]", with: "[\(33 + pick(10)),39]"))  // wrong shape
            default: bad = Array(good.prefix(8)) + (0..<n).map { _ in UInt8(pick(256, UInt64(trial))) }  // garbage header
            }
            do {
                _ = try SafeTensors.decode(bad, expect: expect)
                Issue.record("mutation \(trial % 10) (trial \(trial)) was accepted")
            } catch is SafeTensors.FormatError {
                rejected += 1
            }
        }
        #expect(rejected == 400)
    }

    @Test func importRejectsBrokenDirectoriesClearly() throws {
        let dir = try Support.tempDir().appendingPathComponent("pylo").path
        _ = try LOExport.write(Self.theta, config: .mu, format: .pylo, to: dir, source: "test")
        try "{\"input_size\": 39}".write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
        #expect(throws: LOError.self) { try LOExport.importPyLO(dir) }
        try "{\n  \"input_size\": 39,\n  \"hidden_size\": 32,\n  \"hidden_layers\": 1\n}".write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: "\(dir)/model.safetensors"))
        let e = #expect(throws: LOError.self) { try LOExport.importPyLO(dir) }
        #expect(e?.message.contains("model.safetensors") == true)
        #expect(throws: LOError.self) { try LOExport.importPyLO(dir + "-missing") }
    }
}

@Suite("mulo export and import commands", .serialized)
struct ExportCommandTests {
    @Test func exportThenImportReproducesTheta() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("theta.h5").path
        #expect(try Support.mulo(["lo-init", "--parametrization", "sp", "--seed", "9", "--out", theta]).status == 0)
        let r = try Support.mulo(["export", theta, "--format", "pylo", "--with-probe", "--out", dir.appendingPathComponent("x").path])
        #expect(r.status == 0, "\(r.stderr)")
        let back = dir.appendingPathComponent("back.h5").path
        let i = try Support.mulo(["import", dir.appendingPathComponent("x").path, "--out", back])
        #expect(i.status == 0 && i.stdout.contains("from mulo_lo.json"))
        let (a, ca) = try LOCheckpoint.load(theta), (b, cb) = try LOCheckpoint.load(back)
        #expect(a.flat.map(\.bitPattern) == b.flat.map(\.bitPattern) && ca == cb)
        let probe = try HDF5File.open(dir.appendingPathComponent("x/probe.h5").path)
        #expect(try probe.read("features", as: Float.self).shape == [256, 39])
        let bad = try Support.mulo(["export", Support.goldenPath, "--out", dir.appendingPathComponent("y").path])
        #expect(bad.status != 0 && bad.stderr.contains("theta"))
        let fmt = try Support.mulo(["export", theta, "--format", "onnx"])
        #expect(fmt.status != 0)
    }

    /// Without --out, an export goes where the notebooks read it — the repository's
    /// notebooks-export/exports/<name> — whatever the working directory (it went to ./notebooks-export).
    @Test func exportsGoToTheNotebooksByDefault() throws {
        let dir = try Support.tempDir()
        let name = "test-export-\(UUID().uuidString.prefix(8))"
        let theta = dir.appendingPathComponent("\(name).h5").path
        #expect(try Support.mulo(["lo-init", "--out", theta]).status == 0)
        let target = Support.repoRoot.appendingPathComponent("notebooks-export/exports/\(name)")
        defer { try? FileManager.default.removeItem(at: target) }
        let r = try Support.mulo(["export", theta, "--format", "json"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("theta.json").path), "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("notebooks-export").path))
    }

    @Test func shippableH5CarriesThetaMetricsAndBudget() throws {
        let dir = try Support.tempDir()
        let cfg = dir.appendingPathComponent("c.toml").path
        try MetaTrainCommandTests.config.write(toFile: cfg, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        #expect(try Support.mulo(["meta-train", cfg, "--out", run.path, "--steps", "3"]).status == 0)
        let ckpt = try #require(try MetaCheckpoint.latest(in: run.path))
        let r = try Support.mulo(["export", ckpt, "--format", "h5", "--out", dir.appendingPathComponent("ship").path])
        #expect(r.status == 0, "\(r.stderr)")
        let shipped = dir.appendingPathComponent("ship/theta.h5").path
        let f = try HDF5File.open(shipped)
        #expect(try f.attributeInt("outer_steps_done") == 3)
        // --steps is a stopping point: the budget still names the configured outer_steps (6).
        #expect(try f.attributeString("budget") == "3 outer steps of meta-training (configured: 6)")
        #expect(try f.read("metrics/meta_loss", as: Float.self).values.count == 3)
        // The CPU the wall times were measured on, from /proc/cpuinfo, as the run recorded it.
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        #expect(try f.attributeStrings("cpu_models") == [HostCPU(cpuinfo: cpuinfo).model] && cpuinfo.contains(HostCPU.current.model))
        #expect(try LOCheckpoint.load(shipped).theta == LOCheckpoint.load(ckpt).theta)
    }
}
