// `snnc profile NAME` shows a hardware profile; `snnc profile --list` lists those found.
import SNNCHardware
import SNNCIR
import SNNCJSON
#if canImport(Glibc)
import Glibc
#endif

public enum Profiles {
    /// The directories of $SNNC_PROFILE_PATH.
    public static func directories() -> [String] {
        var env: [String: String] = [:]
        if let p = getenv("SNNC_PROFILE_PATH") { env["SNNC_PROFILE_PATH"] = String(cString: p) }
        return ProfileCatalog.directories(environment: env)
    }

    /// Loads a profile by name (SNNC_PROFILE_PATH, then built in) or by path; an unknown name
    /// fails with `profile-not-found` and the nearest names.
    public static func load(_ nameOrPath: String) -> Result<HardwareProfile, DiagnosticsError> {
        ProfileCatalog.load(nameOrPath, directories: directories())
    }

    public static func list() -> CommandResult {
        var r = CommandResult()
        var t = TextTable(headers: ["profile", "ASN", "cores", "neurons/core", "fan-in/core", "weights", "spikes", "from"],
                          alignments: [.left, .left, .right, .right, .right, .left, .left, .left])
        let dirs = directories()
        for e in ProfileCatalog.entries(directories: dirs) {
            switch ProfileCatalog.load(e.path ?? e.name, directories: []) {
            case .success(let p):
                let shadows = e.path != nil && ProfileCatalog.builtIn.contains { $0.name == e.name }
                t.add([e.name, p.asnSupport.rawValue, groupedDigits(p.totalCores), groupedDigits(p.limits(core: 0).neurons),
                       groupedDigits(p.limits(core: 0).inputAxons), "\(p.numerics.weightBits)-bit",
                       p.spikes.graded ? "graded \(p.spikes.payloadBits)-bit" : "binary", e.origin + (shadows ? " (instead of the built-in one)" : "")])
            case .failure(let err):
                r.report(err.diagnostics)
            }
        }
        r.stdout = t.render()
        return r
    }

    public static func show(_ nameOrPath: String, json: Bool) -> CommandResult {
        let p: HardwareProfile
        switch load(nameOrPath) {
        case .success(let x): p = x
        case .failure(let e): return .failure(e.diagnostics)
        }
        var r = CommandResult()
        let c = p.limits(core: 0)
        if json {
            r.stdout = JSONOutput.object([
                ("name", .string(p.name)), ("asn_support", .string(p.asnSupport.rawValue)),
                ("chips", .int(p.chips)), ("application_cores_per_chip", .int(p.applicationCoresPerChip)),
                ("total_cores", .int(p.totalCores)),
                ("boards", .array(p.boards.map { .object([("name", .string($0.name)), ("chips", .int($0.chips)), ("chip_mesh", .array([.int($0.chipMesh.rows), .int($0.chipMesh.cols)]))]) })),
                ("core", .object([("neurons", .int(c.neurons)), ("state_memory_bytes", .int(c.stateMemoryBytes)),
                                  ("input_axons", .int(c.inputAxons)), ("output_axons", .int(c.outputAxons)),
                                  ("synapse_memory_bits", .int(c.synapseMemoryBits))])),
                ("weight_bits", .int(p.numerics.weightBits)), ("graded_spikes", .bool(p.spikes.graded)),
                ("payload_bits", .int(p.spikes.payloadBits)), ("sources", .array(p.sources.map { .string($0) })),
            ]).serialized()
            return r
        }
        var s = "profile '\(p.name)' from \(p.file)\n\(p.description)\n\n"
        var t = TextTable(headers: ["property", "value"], alignments: [.left, .left])
        t.add(["ASN support", p.asnSupport.rawValue + (p.missingFeatures.isEmpty ? "" : " — lacks: " + p.missingFeatures.joined(separator: "; "))])
        t.add(["chips", "\(p.chips) (\(p.chipMesh.rows)×\(p.chipMesh.cols) mesh), inter-chip hop cost \(fmt(p.interChipHopCost, 1))×"])
        t.add(["boards (--chips)", p.boards.map { "\($0.name): \($0.chips) (\($0.chipMesh.rows)×\($0.chipMesh.cols))" + ($0.chips == p.chips ? " default" : "") }.joined(separator: "; ")])
        t.add(["cores per chip", "\(p.coresPerChip) (\(p.applicationCoresPerChip) for applications), \(p.coreMesh.rows)×\(p.coreMesh.cols) mesh"])
        for (i, core) in (p.cores.count == 1 ? [c] : p.cores).enumerated() {
            let label = p.cores.count == 1 ? "per core" : "core \(i)"
            t.add([label, "\(groupedDigits(core.neurons)) neurons, \(humanBytes(core.stateMemoryBytes)) state, \(groupedDigits(core.inputAxons)) input axons, \(groupedDigits(core.outputAxons)) output axons, \(humanBytes(core.synapseMemoryBits / 8)) synapse memory (\(core.bitsPerSynapse) bits/synapse)" + (core.maxDestinations.map { ", ≤ \($0) destinations" } ?? "")])
        }
        t.add(["shared conv weights", p.sharedWeights ? "yes" : "no"])
        let n = p.numerics
        t.add(["weights", "\(n.weightBits)-bit, exponent \(n.weightExponentMin)…\(n.weightExponentMax) per \(n.exponentScope), rounding \(n.rounding.rawValue)"])
        t.add(["state bits", "I \(n.currentBits), S \(n.activationBits), Ŝ \(n.refractoryBits), ϑ \(n.thresholdBits); decays \(n.decayBits)-bit; overflow \(n.overflow.rawValue) (\(n.overflowIsError ? "error" : "warning") if possible)"])
        t.add(["spikes", p.spikes.graded ? "graded, \(p.spikes.payloadBits)-bit payload, \(p.spikes.multiplierBits)-bit multiplier" : "binary"])
        t.add(["router", "\(p.router.scheme.rawValue)" + (p.router.entries.map { ", \(groupedDigits($0)) entries" } ?? "") + ", \(fmt(p.router.hopLatencyNs, 1)) ns/hop, \(p.router.packetBits)-bit packets"])
        t.add(["timing", "clock \(fmt(p.clockHz / 1e6, 0)) MHz, timestep \(fmt(p.timestepUs, 0)) µs"])
        t.add(["energy", "synaptic op \(fmt(p.energy.synapticOpPJ, 1)) pJ, neuron update \(fmt(p.energy.neuronUpdatePJ, 1)) pJ, hop \(fmt(p.energy.spikeHopPJ, 1)) pJ, payload bit \(fmt(p.energy.payloadBitPJ, 2)) pJ"])
        s += t.render() + "\nsources:\n" + p.sources.map { "- " + $0 }.joined(separator: "\n") + "\n"
        r.stdout = s
        return r
    }
}
