import MuLO
import Testing

@Suite("Random numbers")
struct RNGTests {
    /// Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
    @Test func philoxKnownAnswers() {
        let zero = Philox4x32.block(key: (0, 0), counter: (0, 0, 0, 0))
        #expect([zero.0, zero.1, zero.2, zero.3] == [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
        let ones = Philox4x32.block(key: (0xFFFF_FFFF, 0xFFFF_FFFF),
                                    counter: (0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF))
        #expect([ones.0, ones.1, ones.2, ones.3] == [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD])
        let pi = Philox4x32.block(key: (0xA409_3822, 0x299F_31D0),
                                  counter: (0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344))
        #expect([pi.0, pi.1, pi.2, pi.3] == [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1])
    }

    @Test func sameSeedSameNumbersAnyThreadCount() {
        let key = RNGKey(seed: 42).split(3)
        var one = [Float](repeating: 0, count: 300_000), two = one
        Support.withWorkers(1) { key.fillTruncatedNormal(&one, std: 0.5) }
        Support.withWorkers(4) { key.fillTruncatedNormal(&two, std: 0.5) }
        #expect(one == two)
        var again = one
        RNGKey(seed: 42).split(3).fillTruncatedNormal(&again, std: 0.5)
        #expect(again == one)
    }

    @Test func splitsAndSeedsAreIndependent() {
        let k = RNGKey(seed: 1)
        #expect(k.split(0) != k.split(1))
        #expect(RNGKey(seed: 1) != RNGKey(seed: 2))
        #expect(k.split(0).uniform(at: 0) != k.split(1).uniform(at: 0))
    }

    @Test func uniformMoments() {
        var xs = [Float](repeating: 0, count: 400_000)
        RNGKey(seed: 3).fillUniform(&xs, low: -1, high: 3)
        let (mean, std) = Support.meanStd(xs)
        #expect(abs(mean - 1) < 0.01)
        #expect(abs(std - 4 / 12.0.squareRoot()) < 0.01)
        #expect(xs.allSatisfy { $0 >= -1 && $0 < 3 })
    }

    @Test func normalMoments() {
        var xs = [Float](repeating: 0, count: 400_000)
        RNGKey(seed: 4).fillNormal(&xs, mean: 2, std: 3)
        let (mean, std) = Support.meanStd(xs)
        #expect(abs(mean - 2) < 0.02)
        #expect(abs(std - 3) < 0.02)
    }

    /// ±2σ truncation without rescaling: std = sqrt(1 − 2·2φ(2)/(2Φ(2)−1)) = 0.87962.
    @Test func truncatedNormalMomentsAndBounds() {
        var xs = [Float](repeating: 0, count: 400_000)
        RNGKey(seed: 5).fillTruncatedNormal(&xs, std: 0.1)
        let (mean, std) = Support.meanStd(xs)
        #expect(abs(mean) < 0.001)
        #expect(abs(std - 0.087962) < 0.0005)
        #expect(xs.allSatisfy { abs($0) <= 0.2 })
    }

    @Test func distinctIndicesAreDistinctAndCoverTheRange() {
        let key = RNGKey(seed: 6)
        var hits = [Int](repeating: 0, count: 100)
        for s in 0..<2000 {
            let idx = key.split(UInt64(s)).distinctIndices(30, below: 100)
            #expect(Set(idx).count == 30)
            idx.forEach { hits[$0] += 1 }
        }
        // Each index is drawn with probability 0.3: 600 expected per index over 2000 draws.
        #expect(hits.allSatisfy { abs($0 - 600) < 120 })
        #expect(Set(key.distinctIndices(10, below: 10)) == Set(0..<10))
    }

    @Test func integersAreUnbiased() {
        let key = RNGKey(seed: 11)
        var counts = [Int](repeating: 0, count: 7)
        for i in 0..<70_000 { counts[key.integer(below: 7, at: UInt64(i))] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 400 })
    }
}
