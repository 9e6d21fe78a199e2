import Foundation
import MuLO
import Testing

/// The live-metrics writers against their formats' published values; the files as a whole are
/// read back by TensorBoard's own reader in notebooks-export/tests/test_live_metrics.py.
@Suite("Live metrics")
struct LoggingTests {
    /// The ETA scales the elapsed time by what is left: by count, or by the finished share of the
    /// work for units of unequal cost. An evaluation's first width-4096 run of 108 finishes after
    /// 25 min with a sixth of the study's compute done: 125 min left, not 107 × 25.
    @Test func etaExtrapolatesTheFinishedWork() {
        #expect(Progress.eta(elapsed: 1500, done: 1, total: 108, fractionDone: 1.0 / 6) == 7500)
        #expect(Progress.eta(elapsed: 1500, done: 1, total: 108) == 107 * 1500)
        #expect(Progress.eta(elapsed: 30, done: 3, total: 4) == 10)
        // Counted from a first report at step 772 of 1000: at step 800 after 60 s, 200 left.
        #expect(abs(Progress.eta(elapsed: 60, done: 800 - 772, total: 1000 - 772) - 60 * 200 / 28.0) < 1e-9)
        #expect(Progress.eta(elapsed: 30, done: 0, total: 4) == 0 && Progress.eta(elapsed: 30, done: 0, total: 0) == 0)
        #expect(Progress.eta(elapsed: 30, done: 4, total: 4, fractionDone: 1) == 0)
    }

    /// Rates and count ETAs start at the first report, so the setup before a run's first step
    /// (the step-0 test pass: 20 steps' time) does not make its first lines say hours; the
    /// study's ETA goes by the share of its work over all its time.
    @Test func progressLinesRateFromTheFirstReport() {
        func line(_ done: Int, counted: Int, in s: Double, elapsed: Double = 100, work: Double? = nil) -> String {
            Progress.line(label: "r: step", done: done, total: 1000, fields: [("loss", "0.5")], unit: "steps",
                          elapsed: elapsed, counted: counted, countedIn: s, fractionDone: work)
        }
        #expect(line(1, counted: 0, in: 0) == "r: step 1/1000  loss 0.5")
        #expect(line(101, counted: 100, in: 50) == "r: step 101/1000  loss 0.5  2.0 steps/s  ETA 7m30s")
        #expect(line(1000, counted: 999, in: 500, elapsed: 530) == "r: step 1000/1000  loss 0.5  2.0 steps/s  done in 8m50s")
        #expect(line(3, counted: 2, in: 10, elapsed: 1800, work: 0.25) == "r: step 3/1000  loss 0.5  0.2 steps/s  ETA 1h30m")
        #expect(line(0, counted: 0, in: 0, work: 0) == "r: step 0/1000  loss 0.5")
    }

    /// An evaluation's runs feed its work step by step, so runs in flight count: a resumed run
    /// only from its saved step, and a run stopped early (divergence) its whole share at its end.
    @Test func runsInFlightFeedTheirStudysWork() {
        let study = Progress(total: 2, label: "runs", enabled: false, totalWork: 100)
        let a = Progress(total: 10, label: "a", enabled: false, feeding: study, workPerStep: 6)    // 60
        let b = Progress(total: 20, label: "b", enabled: false, feeding: study, workPerStep: 4)    // 40 left after step 10
        b.resume(at: 10)
        a.update(5)
        b.update(15)
        #expect(study.workFraction == 0.5)
        a.update(5)
        a.update(3)
        #expect(study.workFraction == 0.5)
        a.finish()
        study.unitDone()
        #expect(study.workFraction == 0.8)
        b.finish()
        #expect(study.workFraction == 1)
        #expect(Progress(total: 1, label: "x", enabled: false).workFraction == nil)
    }

    /// The CRC catalogue's check value of CRC-32C and RFC 3720's (iSCSI) 32 bytes of zeros.
    @Test func crc32cMatchesPublishedCheckValues() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    /// Lines are JSON with escaped names and null for non-finite values; `keep` drops lines,
    /// a torn last line included, and appending continues after what was kept.
    @Test func jsonLinesEscapeDropAndAppend() throws {
        let dir = try Support.tempDir().appendingPathComponent("log").path
        let log = try MetricsLog(directory: dir)
        try log.record(step: 1, [("a\"b\\c", 0.5)])
        try log.record(step: 2, run: "r\n", [("loss", .nan), ("acc", .infinity)])
        let path = (dir as NSString).appendingPathComponent("metrics.jsonl")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"step\":3,\"wall".utf8))  // a killed writer's half line
        try handle.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["a\"b\\c"] as? Double == 0.5 && first["step"] as? Int == 1)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["run"] as? String == "r\n" && second["loss"] is NSNull && second["acc"] is NSNull)

        let resumed = try MetricsLog(directory: dir, keep: { ($0["step"] as? Int) == 1 })
        try resumed.record(step: 2, [("x", 1)])
        let kept = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(kept.count == 2 && kept[0] == lines[0] && kept[1].hasPrefix("{\"step\":2,"))
    }
}
