// The compile pipeline: ONE list of named passes, in order. Each pass is a small value with a
// name (the spelling `--dump-after` takes) in its own file; it reads and rewrites a
// `CompileUnit`. `Verifier` checks the unit's invariants; tests run it between every pass.
import SNNCHardware
import SNNCIR

public protocol Pass: Sendable {
    /// The pass's name, as `--dump-after` spells it.
    var name: String { get }
    /// One line: what the pass does.
    var summary: String { get }
    func run(_ unit: inout CompileUnit) throws(DiagnosticsError)
}

public enum Pipeline {
    /// `snnc compile`, in order: the front half, then the mapper (Sources/SNNCPasses/Mapper/).
    public static let passes: [any Pass] = [
        CheckProfile(),       // refuse chips that cannot run ASNs or graded spikes
        FoldBatchNorm(),      // BN after dense/conv → weights and bias
        EncodeInput(),        // the analog ops before the first ASN run on the host
        MergePooling(),       // ASN → max-pool: pooled neurons; ASN → avg-pool: folded into the next weights
        ScaleByH(),           // weights fed by binary spikes × the source's spike height h
        Quantize(),           // weights, decays, thresholds to the profile's fixed point; report
        Partition(),          // layers → core-sized blocks under every per-core limit (Mapper/)
        Place(),              // blocks → mesh slots, minimising Σ traffic × hops
        RouteSpikes(),        // input axons, output axon tables, key/mask router tables
        CheckRoutes(),        // every spike reaches exactly its targets through the tables
        BuildSynapses(),      // every core's image: compartments, biases, axons, synapse rows (Emit/)
        Emit(),               // the artefact's files from the unit; the driver writes them
    ]

    public static var names: [String] { passes.map(\.name) }

    public struct Timing: Sendable {
        public var pass: String
        public var seconds: Double
        public var peakRSSBytes: Int
    }

    /// The last pass `snnc fit` runs: the mapping is decided and every route checked; no core
    /// images or files are built.
    public static let mappingDecided = "check-routes"

    /// Runs the passes in order; after `dumpAfter` (if given) the unit's dump is returned and
    /// the pipeline stops; after `through` it stops with no dump. `verify` runs the verifier
    /// after every pass.
    public static func run(_ unit: inout CompileUnit, dumpAfter: String? = nil, through: String? = nil, verify: Bool = false,
                           clock: () -> Double, rss: () -> Int) throws(DiagnosticsError) -> (dump: String?, timings: [Timing]) {
        var timings: [Timing] = []
        for p in passes {
            let t0 = clock()
            try p.run(&unit)
            timings.append(Timing(pass: p.name, seconds: clock() - t0, peakRSSBytes: rss()))
            unit.completed.append(p.name)
            if verify { try Verifier.check(unit) }
            if p.name == dumpAfter { return (unit.dump(), timings) }
            if p.name == through { break }
        }
        return (nil, timings)
    }
}
