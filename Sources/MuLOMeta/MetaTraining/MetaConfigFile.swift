import Foundation
import TOMLKit

/// Reads MetaTasks/*.toml. Unknown keys and wrongly typed values are errors that name the key,
/// so a typo never silently falls back to a default. The schema is in MetaTasks/README.md.
extension MetaConfig {
    public static func load(_ path: String) throws -> MetaConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MetaConfigError("\(path): cannot read the file")
        }
        let defaultName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(toml: text, defaultName: defaultName, source: path)
    }

    /// Parses and validates TOML text; `source` names it in errors.
    public static func parse(toml text: String, defaultName: String, source: String) throws -> MetaConfig {
        if let problem = TOMLPrecheck.check(text) { throw MetaConfigError("\(source): not valid TOML: \(problem)") }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw MetaConfigError("\(source): not valid TOML: \(error)")
        }
        var r = Reader(table: table, section: "", source: source)
        var c = MetaConfig(name: try r.string("name") ?? defaultName)
        c.seed = try r.uint("seed") ?? c.seed
        c.outerSteps = try r.int("outer_steps") ?? c.outerSteps
        guard let families = table["families"] else {
            throw MetaConfigError("\(source): no [[families]] entries: the family list is empty")
        }
        guard let list = families.array else { throw MetaConfigError("\(source): families must be an array of tables ([[families]])") }
        c.families = try list.enumerated().map { i, item in
            guard let t = item.table else { throw MetaConfigError("\(source): families[\(i)] is not a table") }
            var f = Reader(table: t, section: "families[\(i)]", source: source)
            guard let template = try f.string("template") else { throw MetaConfigError("\(source): families[\(i)] needs a template") }
            let explicit = try f.ints("widths")
            let range = try f.ints("width_range")
            let widths: [Int]
            switch (explicit, range) {
            case let (w?, nil): widths = w
            case let (nil, r?):
                guard r.count == 2, r[0] >= 1, r[1] >= r[0] else {
                    throw MetaConfigError("\(source): families[\(i)].width_range must be [low, high] with 1 ≤ low ≤ high")
                }
                widths = powersOfTwo(from: r[0], to: r[1])
                guard !widths.isEmpty else { throw MetaConfigError("\(source): families[\(i)].width_range \(r) holds no power of two") }
            default:
                throw MetaConfigError("\(source): families[\(i)] needs exactly one of widths = [..] or width_range = [low, high]")
            }
            let family = Family(template: template, widths: widths, batchSize: try f.int("batch_size") ?? 128)
            try f.finish()
            return family
        }
        var lo = Reader(table: try r.section("learned_optimizer"), section: "learned_optimizer", source: source)
        c.learnedOptimizer.architecture = try lo.string("architecture") ?? c.learnedOptimizer.architecture
        if let p = try lo.string("parametrization") {
            guard let v = Parametrization(rawValue: p) else {
                throw MetaConfigError("\(source): learned_optimizer.parametrization must be \"mu\" or \"sp\", got \"\(p)\"")
            }
            c.learnedOptimizer.parametrization = v
        }
        c.learnedOptimizer.stepMult = MetaConfig.LearnedOptimizerSettings.defaultStepMult(architecture: c.learnedOptimizer.architecture,
                                                                                          c.learnedOptimizer.parametrization)
        try lo.fill(&c, floats: ["step_mult": \.learnedOptimizer.stepMult, "exp_mult": \.learnedOptimizer.expMult])
        try lo.fill(&c, ints: ["hidden_size": \.learnedOptimizer.hiddenSize, "lstm_hidden_size": \.learnedOptimizer.lstmHidden,
                               "param_inits": \.learnedOptimizer.paramInits])
        c.learnedOptimizer.interpMult = try lo.float("interp_mult")
        c.learnedOptimizer.bankInitGain = try lo.float("bank_init_gain") ?? 1
        c.learnedOptimizer.initControls = try lo.float("init_controls") ?? 0
        c.learnedOptimizer.descentBank = try lo.bool("descent_bank") ?? false
        c.learnedOptimizer.initLRMult = try lo.float("init_lr_mult") ?? 0
        c.learnedOptimizer.paramScaleMult = try lo.bool("param_scale_mult")
        c.learnedOptimizer.initSeed = try lo.uint("init_seed") ?? c.learnedOptimizer.initSeed
        c.learnedOptimizer.initCheckpoint = try lo.string("init_checkpoint")
        try lo.finish()
        var es = Reader(table: try r.section("estimator"), section: "estimator", source: source)
        if let k = try es.string("kind") {
            guard let v = Estimator(rawValue: k) else { throw MetaConfigError("\(source): estimator.kind must be \"pes\" or \"es\", got \"\(k)\"") }
            c.estimator.kind = v
        }
        try es.fill(&c, ints: ["pairs": \.estimator.pairs, "truncation": \.estimator.truncation,
                               "episode_min": \.estimator.episodeMin, "episode_max": \.estimator.episodeMax,
                               "initial_offset_max": \.estimator.initialOffsetMax])
        try es.fill(&c, floats: ["sigma": \.estimator.sigma])
        try es.finish()
        var oo = Reader(table: try r.section("outer_optimizer"), section: "outer_optimizer", source: source)
        try oo.fill(&c, floats: ["beta1": \.outerOptimizer.beta1, "beta2": \.outerOptimizer.beta2,
                                 "epsilon": \.outerOptimizer.epsilon, "weight_decay": \.outerOptimizer.weightDecay,
                                 "update_clip": \.outerOptimizer.updateClip, "lr_initial": \.outerOptimizer.lrInitial,
                                 "lr_peak": \.outerOptimizer.lrPeak, "lr_final": \.outerOptimizer.lrFinal])
        try oo.fill(&c, ints: ["warmup_steps": \.outerOptimizer.warmupSteps, "decay_end": \.outerOptimizer.decayEnd])
        try oo.finish()
        var ck = Reader(table: try r.section("checkpoint"), section: "checkpoint", source: source)
        try ck.fill(&c, ints: ["interval": \.checkpoint.interval, "keep": \.checkpoint.keep, "keep_every": \.checkpoint.keepEvery])
        try ck.finish()
        r.used.insert("families")
        try r.finish()
        do { try c.validate() } catch { throw MetaConfigError("\(source): \(error)") }
        return c
    }

    static func powersOfTwo(from low: Int, to high: Int) -> [Int] {
        var out: [Int] = []
        var w = 1
        while w <= high {
            if w >= low { out.append(w) }
            w *= 2
        }
        return out
    }
}

/// Typed access to one TOML table that remembers which keys were read, so `finish()` can
/// reject the rest as unknown.
private struct Reader {
    let table: TOMLTable
    let section: String
    let source: String
    var used = Set<String>()

    init(table: TOMLTable, section: String, source: String) {
        self.table = table
        self.section = section
        self.source = source
    }

    private func key(_ k: String) -> String { section.isEmpty ? k : "\(section).\(k)" }
    private func bad(_ k: String, _ what: String) -> MetaConfigError { MetaConfigError("\(source): \(key(k)) must be \(what)") }

    mutating func value(_ k: String) -> TOMLValueConvertible? {
        used.insert(k)
        return table[k]
    }

    /// Each key present overrides its field; absent keys keep the field's value.
    mutating func fill(_ c: inout MetaConfig, floats fields: KeyValuePairs<String, WritableKeyPath<MetaConfig, Float>>) throws {
        for (k, p) in fields { c[keyPath: p] = try float(k) ?? c[keyPath: p] }
    }

    mutating func fill(_ c: inout MetaConfig, ints fields: KeyValuePairs<String, WritableKeyPath<MetaConfig, Int>>) throws {
        for (k, p) in fields { c[keyPath: p] = try int(k) ?? c[keyPath: p] }
    }

    mutating func string(_ k: String) throws -> String? {
        guard let v = value(k) else { return nil }
        guard let s = v.string else { throw bad(k, "a string") }
        return s
    }

    mutating func int(_ k: String) throws -> Int? {
        guard let v = value(k) else { return nil }
        guard let i = v.int else { throw bad(k, "an integer") }
        return i
    }

    mutating func uint(_ k: String) throws -> UInt64? {
        guard let i = try int(k) else { return nil }
        guard i >= 0 else { throw bad(k, "a non-negative integer") }
        return UInt64(i)
    }

    mutating func float(_ k: String) throws -> Float? {
        guard let v = value(k) else { return nil }
        if let d = v.double { return Float(d) }
        if let i = v.int { return Float(i) }
        throw bad(k, "a number")
    }

    mutating func bool(_ k: String) throws -> Bool? {
        guard let v = value(k) else { return nil }
        guard let b = v.bool else { throw bad(k, "true or false") }
        return b
    }

    mutating func ints(_ k: String) throws -> [Int]? {
        guard let v = value(k) else { return nil }
        guard let a = v.array else { throw bad(k, "an array of integers") }
        return try a.map { guard let i = $0.int else { throw bad(k, "an array of integers") }; return i }
    }

    mutating func section(_ k: String) throws -> TOMLTable {
        guard let v = value(k) else { return TOMLTable() }
        guard let t = v.table else { throw bad(k, "a table ([\(k)])") }
        return t
    }

    func finish() throws {
        let unknown = table.keys.filter { !used.contains($0) }.sorted()
        if let first = unknown.first {
            throw MetaConfigError("\(source): unknown key '\(key(first))'\(unknown.count > 1 ? " (and \(unknown.dropFirst().map(key).joined(separator: ", ")))" : "")")
        }
    }
}
