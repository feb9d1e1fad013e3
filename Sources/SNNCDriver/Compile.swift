// `snnc compile model.json --profile P [-o DIR]`: runs the pass pipeline
// (Sources/SNNCPasses/Pipeline.swift) — the front half (quantisation) and the mapper (partition,
// place, route, check-routes) — and writes the compiled artefact directory (Docs/artefact.md)
// with its placement report.
import SNNCHardware
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCPasses
import SNNCReference
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
        /// The artefact directory (default: next to the model, MODEL.PROFILE.snnc).
        public var output: String?
        /// A `snnc simulate --json` result whose per-layer rates weight the placement.
        public var rates: String?
        /// Compile every ASN at ϑ0 = m_f = this value.
        public var theta0: Double?
        /// Arousal: compile at ϑ0_lp with the ϑ0_hp registers for the switch.
        public var arousal: Arousal?
        /// Size the state LSBs from ranges measured on this data (`--calibrate`).
        public var calibrate: Calibrate?
        /// `--chips N`: the profile's board with N chips; `--chips auto`: the smallest that fits.
        public var chips: Int?
        public var chipsAuto = false
        /// How a .nir model is read; the artefact records it for `emulate --check`.
        public var nir = NIROptions()
        public init(modelPath: String) { self.modelPath = modelPath }
    }

    /// `--calibrate DATA [--calibrate-limit N] [--calibrate-percentile P] [--calibrate-margin M]`.
    public struct Calibrate: Sendable {
        public var data: String
        public var limit: Int?
        public var percentile = Calibration.defaultPercentile
        public var margin = Calibration.defaultMargin
        public var durationMs = 500
        public var threads = 0
        public var progress = true
        public init(data: String, limit: Int? = nil, percentile: Double = Calibration.defaultPercentile, margin: Double = Calibration.defaultMargin) {
            self.data = data
            self.limit = limit
            self.percentile = percentile
            self.margin = margin
        }
    }

    /// Runs the float reference (hop delay 1, the chip's timing) on the calibration data and
    /// takes, per ASN layer and register, the chosen percentile of the per-sample maxima.
    public static func measureRanges(_ model: Model, _ c: Calibrate) -> Result<Calibration, DiagnosticsError> {
        let net: SpikingNetwork, data: Dataset
        switch Simulate.prepare(model: model, dataPath: c.data, limit: c.limit) {
        case .success(let (_, d, n)): (data, net) = (d, n)
        case .failure(let e): return .failure(e)
        }
        guard data.count > 0 else {
            return .failure(DiagnosticsError([Diagnostic(.error, .calibrationData, file: c.data, "holds no samples to calibrate on")]))
        }
        var so = SimulationOptions()
        so.durationMs = c.durationMs
        so.hopDelay = 1
        so.threads = c.threads
        so.recordRanges = true
        let bar = ProgressBar(total: data.count, label: "calibrate", enabled: c.progress && isTerminal(2))
        let results = Simulator(network: net, options: so).run(images: data.samples) { bar.update($0) }
        var ranges: [String: StateRange] = [:]
        for li in net.spikingLayerIndices {
            let perSample = results.compactMap { $0.stateRanges?[li] }
            ranges[net.layers[li].name] = StateRange.percentile(perSample, c.percentile)
        }
        return .success(Calibration(data: c.data, samples: data.count, percentile: c.percentile, margin: c.margin, ranges: ranges))
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        if let d = o.dumpAfter, !Pipeline.names.contains(d) {
            r.stderr = "snnc: --dump-after '\(d)' is not a pass; the passes are: \(Pipeline.names.joined(separator: ", "))\n"
            r.status = .usage
            return r
        }
        let loaded = ModelFiles.load(path: o.modelPath, nir: o.nir)
        guard var model = loaded.model else { return .failure(loaded.diagnostics) }
        if (o.arousal != nil || o.theta0 != nil), let n = model.nodes.first(where: { $0.isIntegrateAndFire }) {
            return .failure(loaded.diagnostics + [Diagnostic(.error, .neuronModelUnsupported, file: model.file, object: "node '\(n.name)'",
                                                             "--theta0 and --arousal set the ASN's ϑ0; this is an IF-family neuron (op '\(n.op.rawValue)')")])
        }
        r.report(loaded.diagnostics)
        let override = o.arousal?.theta0Low ?? o.theta0
        if let t = override {
            switch Sweep.withThreshold(model, theta0: t) {
            case .success(let m): model = m
            case .failure(let e): return .failure(loaded.diagnostics + e.diagnostics)
            }
        }
        // Arousal's ϑ0_hp must leave every layer in range too (its h is normalised there).
        if let a = o.arousal, case .failure(let e) = Sweep.withThreshold(model, theta0: a.theta0High) {
            return .failure(loaded.diagnostics + e.diagnostics)
        }
        var profile: HardwareProfile
        switch Profiles.load(o.profile) {
        case .success(let p): profile = p
        case .failure(let e): return .failure(e.diagnostics)
        }
        switch Self.onBoard(profile, chips: o.chips) {
        case .success(let p): profile = p
        case .failure(let e): return .failure(e.diagnostics)
        }
        var unit = CompileUnit(model: model, profile: profile)
        if o.chipsAuto { unit.boardChoice = .auto }
        if let c = o.calibrate {
            switch measureRanges(model, c) {
            case .success(let cal): unit.calibration = cal
            case .failure(let e): return .failure(loaded.diagnostics + e.diagnostics)
            }
        }
        unit.arousal = o.arousal
        unit.theta0Override = override
        if let rf = o.rates {
            switch readRates(rf) {
            case .success(let m): unit.measuredRates = m
            case .failure(let e): return .failure(e.diagnostics)
            }
        }
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
        } else {
            let dir = o.output ?? defaultOutput(o.modelPath, profile: profile.name)
            let modelBytes = (try? readWholeFile(o.modelPath, limit: 1 << 30)) ?? []
            let weightsBytes = model.weightsFile.flatMap { try? readWholeFile($0, limit: 1 << 34) }
            let files = Artefact.files(unit, modelBytes: modelBytes, weightsBytes: weightsBytes,
                                       sourceName: Artefact.sourceModelName(forModelAt: o.modelPath),
                                       nir: ModelFiles.isNIR(o.modelPath) ? o.nir : nil)
            do {
                try Artefact.write(files, to: dir)
            } catch {
                var f = CommandResult.failure([Diagnostic(.error, .outputUnwritable, file: dir, "cannot write the artefact: \(error)")])
                f.stderr = r.stderr + f.stderr
                return f
            }
            r.stdout = o.json ? MappingReport(unit).json().serialized() : quantizationReport(unit) + "\n" + summary(unit, dir: dir)
        }
        if o.timings {
            var t = TextTable(headers: ["pass", "seconds", "peak RSS"], alignments: [.left, .right, .right])
            for x in result.timings { t.add([x.pass, fmt(x.seconds, 4), humanBytes(x.peakRSSBytes)]) }
            r.stderr += t.render()
        }
        return r
    }

    /// The profile on its board with `chips` chips (nil: its default board).
    public static func onBoard(_ profile: HardwareProfile, chips: Int?) -> Result<HardwareProfile, DiagnosticsError> {
        guard let n = chips else { return .success(profile) }
        guard let b = profile.board(chips: n) else {
            let list = profile.boards.map { "\($0.chips) ('\($0.name)')" }.joined(separator: ", ")
            return .failure(DiagnosticsError([Diagnostic(.error, .boardUnknown, file: profile.file, object: "profile '\(profile.name)'",
                                                         "has no board with \(Board.count(n)); its boards have \(list) chips",
                                                         notes: ["`--chips auto` picks the smallest board that holds the network"])]))
        }
        return .success(profile.on(b))
    }

    /// 100 → "100", 1.5 → "1.5".
    static func plain(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }

    public static func quantizationReport(_ unit: CompileUnit) -> String {
        var t = TextTable(headers: ["layer", "weights", "bits", "exponent", "max |error|", "SQNR dB", "zeroed", "zeroed %", "clipped", "worst input / limit"],
                          alignments: [.left, .right, .right, .right, .right, .right, .right, .right, .right, .right])
        for q in unit.quantization {
            t.add([q.node, groupedDigits(q.weights), "\(q.bits)", "\(q.exponent)", fmt(q.maxAbsError, 6), q.sqnrDB.isFinite ? fmt(q.sqnrDB, 1) : "exact",
                   groupedDigits(q.zeroed), fmt(q.zeroedPercent, 2), groupedDigits(q.clipped),
                   "\(groupedDigits(clampedInt(q.worstCaseInput, .towardZero))) / \(groupedDigits(clampedInt(q.accumulatorLimit, .towardZero)))"])
        }
        let s = "quantisation of '\(unit.model.name)' for profile '\(unit.profile.name)' (\(unit.profile.numerics.weightBits)-bit weights, exponent per \(unit.profile.numerics.exponentScope), \(unit.profile.numerics.rounding.rawValue))\n\n" + t.render()
        var n = TextTable(headers: ["ASN layer", "state LSB", "ϑ0 (LSBs)", "m_f", "α_β", "α_φ", "α_η", "α_γ", "pooled"],
                          alignments: [.left, .right, .right, .right, .right, .right, .right, .right, .left])
        for name in unit.model.nodes.map(\.name) {
            guard let f = unit.neuronFormats[name], f.lif == nil else { continue }
            let d = 1 << f.decayBits
            n.add([name, "2^\(f.stateExponent)", "\(f.theta0)", "\(f.mf)/\(d)", "\(f.alphaBeta)/\(d)", "\(f.alphaPhi)/\(d)", "\(f.alphaEta)/\(d)", "\(f.alphaGamma)/\(d)",
                   unit.pooledLayers[name].map { pl -> String in
                       let comps = pl.preShape.reduce(1, *)
                       let neurons = unit.model.node(named: name)?.shape.reduce(1, *) ?? 0
                       let bits = unit.profile.limits(core: 0).stateBitsPerNeuron
                       return "\(groupedDigits(comps)) compartments for \(groupedDigits(neurons)) neurons: \(humanBytes(comps * bits / 8)) of state instead of \(humanBytes(neurons * bits / 8))"
                   } ?? ""])
        }
        var out = s + "\n" + (n.rows.isEmpty ? "" : n.render())
        var lifTable = TextTable(headers: ["IF-family layer", "model", "state LSB", "θ (LSBs)", "d_mem", "d_syn", "leak", "v_reset", "reset", "input gain folded"],
                                 alignments: [.left, .left, .right, .right, .right, .right, .right, .right, .left, .right])
        for name in unit.model.nodes.map(\.name) {
            guard let f = unit.neuronFormats[name], let l = f.lif else { continue }
            let d = 1 << f.decayBits
            lifTable.add([name, l.kind.rawValue, "2^\(f.stateExponent)", "\(l.threshold)", "\(l.memDecay)/\(d)", l.kind == .currentBased ? "\(l.synDecay)/\(d)" : "—",
                          "\(l.leak)", "\(l.vReset)", (l.subtract ? "subtract" : "to v_reset") + (l.nextStep ? ", next step" : ""), formatSignificant(unit.inputGain(of: name))])
        }
        if !lifTable.rows.isEmpty { out += "\n" + lifTable.render() }
        if let cal = unit.calibration {
            var c = TextTable(headers: ["ASN layer", "state LSB", "source", "|I| max", "|S| max", "Ŝ max", "ϑ max", "holds (I / S / Ŝ / ϑ)"],
                              alignments: [.left, .right, .left, .right, .right, .right, .right, .right])
            for r in unit.stateRanges {
                let m = r.measured.map { $0.values.map { formatSignificant($0) } } ?? ["", "", "", ""]
                c.add([r.layer, "2^\(r.stateExponent)", r.source.rawValue] + m + [r.capacity.values.map { formatSignificant($0) }.joined(separator: " / ")])
            }
            out += "\nstate ranges calibrated on \(groupedDigits(cal.samples)) samples of \(cal.data) (hop delay 1, percentile \(plain(cal.percentile)) of per-sample maxima, margin ×\(plain(cal.margin)))\n\n" + c.render()
        }
        if !unit.payloads.isEmpty {
            var p = TextTable(headers: ["graded layer", "payload bits", "shift", "ϑ0 … bound (LSBs)", "SQNR dB", "max rel. error"],
                              alignments: [.left, .right, .right, .right, .right, .right])
            for q in unit.payloads {
                p.add([q.layer, "\(q.bits)", "\(q.shift)", "\(groupedDigits(q.theta0)) … \(groupedDigits(q.bound))", q.sqnrDB.isFinite ? fmt(q.sqnrDB, 1) : "exact",
                       fmt(q.maxRelativeError * 100, 4) + " %"])
            }
            out += "\npayload ϑ(t_s) of graded spikes (shifted right to fit the payload; SQNR over thresholds ϑ0 … 16·ϑ0)\n\n" + p.render()
        }
        return out
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
