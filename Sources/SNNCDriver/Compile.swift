// `snnc compile model.json --profile P`: runs the pass pipeline (Sources/SNNCPasses/Pipeline.swift).
// Today that is the front half — check-profile, fold-batchnorm, encode-input, merge-pooling,
// scale-by-h, quantize — and its quantisation report. Partitioning, placement, routing and the
// compiled artefact (issue 6) are not implemented yet, and compile says so.
import SNNCHardware
import SNNCIR
import SNNCJSON
import SNNCPasses
#if canImport(Glibc)
import Glibc
#endif

public enum Compile {
    public struct Options: Sendable {
        public var modelPath: String
        public var profile = "generic"
        public var dumpAfter: String?
        public var timings = false
        public var json = false
        public init(modelPath: String) { self.modelPath = modelPath }
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        if let d = o.dumpAfter, !Pipeline.names.contains(d) {
            r.stderr = "snnc: --dump-after '\(d)' is not a pass; the passes are: \(Pipeline.names.joined(separator: ", "))\n"
            r.status = .usage
            return r
        }
        let loaded = ModelLoader.load(path: o.modelPath)
        guard let model = loaded.model else { return .failure(loaded.diagnostics) }
        r.report(loaded.diagnostics)
        let profile: HardwareProfile
        switch Profiles.load(o.profile) {
        case .success(let p): profile = p
        case .failure(let e): return .failure(e.diagnostics)
        }
        var unit = CompileUnit(model: model, profile: profile)
        let result: (dump: String?, timings: [Pipeline.Timing])
        do {
            result = try Pipeline.run(&unit, dumpAfter: o.dumpAfter, verify: true, clock: monotonicSeconds, rss: peakRSS)
        } catch {
            var f = CommandResult.failure(unit.diagnostics.filter { $0.severity != .error } + error.diagnostics)
            f.stdout = ""
            return f
        }
        r.report(unit.diagnostics)
        if let dump = result.dump {
            r.stdout = dump
        } else if o.json {
            r.stdout = quantizationJSON(unit).serialized()
        } else {
            r.stdout = quantizationReport(unit)
            r.stdout += "\nfront half done (\(Pipeline.names.joined(separator: " → "))). Partitioning, placement, routing and the compiled artefact are not implemented yet (issue 6): nothing was written.\n"
        }
        if o.timings {
            var t = TextTable(headers: ["pass", "seconds", "peak RSS"], alignments: [.left, .right, .right])
            for x in result.timings { t.add([x.pass, fmt(x.seconds, 4), humanBytes(x.peakRSSBytes)]) }
            r.stderr += t.render()
        }
        return r
    }

    public static func quantizationReport(_ unit: CompileUnit) -> String {
        var t = TextTable(headers: ["layer", "weights", "bits", "exponent", "max |error|", "SQNR dB", "zeroed", "zeroed %", "clipped", "worst input / limit"],
                          alignments: [.left, .right, .right, .right, .right, .right, .right, .right, .right, .right])
        for q in unit.quantization {
            t.add([q.node, groupedDigits(q.weights), "\(q.bits)", "\(q.exponent)", fmt(q.maxAbsError, 6), q.sqnrDB.isFinite ? fmt(q.sqnrDB, 1) : "exact",
                   groupedDigits(q.zeroed), fmt(q.zeroedPercent, 2), groupedDigits(q.clipped),
                   "\(groupedDigits(Int(q.worstCaseInput))) / \(groupedDigits(Int(q.accumulatorLimit)))"])
        }
        let s = "quantisation of '\(unit.model.name)' for profile '\(unit.profile.name)' (\(unit.profile.numerics.weightBits)-bit weights, exponent per \(unit.profile.numerics.exponentScope), \(unit.profile.numerics.rounding.rawValue))\n\n" + t.render()
        var n = TextTable(headers: ["ASN layer", "state LSB", "ϑ0 (LSBs)", "m_f", "α_β", "α_φ", "α_η", "α_γ", "pooled"],
                          alignments: [.left, .right, .right, .right, .right, .right, .right, .right, .left])
        for name in unit.model.nodes.map(\.name) {
            guard let f = unit.neuronFormats[name] else { continue }
            let d = 1 << f.decayBits
            n.add([name, "2^\(f.stateExponent)", "\(f.theta0)", "\(f.mf)/\(d)", "\(f.alphaBeta)/\(d)", "\(f.alphaPhi)/\(d)", "\(f.alphaEta)/\(d)", "\(f.alphaGamma)/\(d)",
                   unit.pooledLayers[name].map { pl -> String in
                       let comps = pl.preShape.reduce(1, *)
                       let neurons = unit.model.node(named: name)?.shape.reduce(1, *) ?? 0
                       let bits = unit.profile.limits(core: 0).stateBitsPerNeuron
                       return "\(groupedDigits(comps)) compartments for \(groupedDigits(neurons)) neurons: \(humanBytes(comps * bits / 8)) of state instead of \(humanBytes(neurons * bits / 8))"
                   } ?? ""])
        }
        return s + "\n" + n.render()
    }

    static func quantizationJSON(_ unit: CompileUnit) -> JSONOutput {
        .object([
            ("model", .string(unit.model.name)), ("profile", .string(unit.profile.name)),
            ("layers", .array(unit.quantization.map { q in
                .object([("layer", .string(q.node)), ("weights", .int(q.weights)), ("bits", .int(q.bits)), ("exponent", .int(q.exponent)),
                         ("max_abs_error", .double(q.maxAbsError)), ("sqnr_db", q.sqnrDB.isFinite ? .double(q.sqnrDB) : .null),
                         ("zeroed", .int(q.zeroed)), ("zeroed_percent", .double(q.zeroedPercent)), ("clipped", .int(q.clipped)),
                         ("worst_case_input", .double(q.worstCaseInput)), ("accumulator_limit", .double(q.accumulatorLimit))])
            })),
        ])
    }
}

/// Peak resident set size of this process (VmHWM), in bytes.
public func peakRSS() -> Int {
    guard let f = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if s.hasPrefix("VmHWM:") { return (Int(s.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024 }
    }
    return 0
}
