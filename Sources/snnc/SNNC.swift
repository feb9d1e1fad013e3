// The `snnc` command line: argument parsing only. Each subcommand calls the driver library
// and prints what it returns; all behaviour lives in SNNCDriver so tests can run it in-process.
import ArgumentParser
import SNNCDriver
import SNNCIR
import SNNCReference
import SNNCImport
import SNNCPasses
#if canImport(Glibc)
import Glibc
#endif

@main
struct SNNC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snnc",
        abstract: "Compile adaptive spiking neural networks (ASN) for neuromorphic hardware.",
        version: snncVersion,
        subcommands: [InspectCommand.self, FitCommand.self, CompileCommand.self, TransferCommand.self, SimulateCommand.self, SweepCommand.self, CalibrateArousalCommand.self,
                      ConvertCommand.self, CompareCommand.self, ExportNIRCommand.self, ExportLavaCommand.self,
                      ProfileCommand.self, SynthesizeCommand.self, ReportCommand.self, EmulateCommand.self]
    )

    /// Exit codes: 0 success, 1 bad input (model, profile, data), 2 bad usage (command line).
    static func main() {
        BLAS.useFastKernels()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))  // --help, --version
                Glibc.exit(0)
            }
            writeAll(2, fullMessage(for: error) + "\n")
            Glibc.exit(ExitStatus.usage.rawValue)
        }
    }
}

/// Prints a driver result and turns its status into the process exit code.
func finish(_ r: CommandResult) throws {
    if !r.stdout.isEmpty { writeAll(1, r.stdout) }
    if !r.stderr.isEmpty { writeAll(2, r.stderr) }
    if r.status != .success { throw ExitCode(r.status.rawValue) }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate a model and print one row per node: shape, parameters, ASN neurons, synapses, fan-in, MACs."
    )

    @Argument(help: "The model file (model format v1, Docs/model-format.md; .onnx; .nir).")
    var model: String

    @Flag(help: "Print the table as JSON.")
    var json = false
    @OptionGroup var nir: NIRFlags

    func run() throws {
        try finish(Inspect.run(modelPath: model, json: json, nir: nir.options))
    }
}

struct SynthesizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthesize",
        abstract: "Write an UNTRAINED compile-scale model (synthetic weights, fixed seed): resnet18-imagenet, vgg-cifar10, mnist-paper, mlp-inline-1m, mlp-2000, mlp-mnist-3584."
    )

    @Argument(help: "Which model: \(SyntheticModels.names.joined(separator: ", ")).")
    var name: String

    @Option(name: .shortAndLong, help: "Output directory (created if missing).")
    var output: String

    @Flag(help: "Write tensors inline in the JSON instead of a .safetensors file.")
    var inline = false

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard SyntheticModels.names.contains(name) else {
            throw ValidationError("unknown model '\(name)'; choose one of \(SyntheticModels.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        try finish(Synthesize.run(name: name, directory: output, inline: inline, seed: seed))
    }
}

struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Simulate one ASN per activation S and compare its mean PSC with the transfer function f(S).",
        discussion: "Defaults are the paper's: τ_γ 15, τ_η = τ_β = 50, τ_φ 2.5 ms (the authors' code), m_f = ϑ0, h normalised so f(1) = 1, 20 s per point."
    )

    @Option(help: "Resting threshold ϑ0.") var theta0: Double = 0.1
    @Option(name: .customLong("m-f"), help: "Adaptation factor m_f (default: ϑ0).") var mf: Double?
    @Option(help: "τ_γ in ms.") var tauGamma: Double = 15
    @Option(help: "τ_η in ms.") var tauEta: Double = 50
    @Option(help: "τ_β in ms.") var tauBeta: Double = 50
    @Option(help: "τ_φ in ms.") var tauPhi: Double = 2.5
    @Option(help: "Spike height h (default: normalised so that f(1) = 1).") var h: Double?
    @Option(name: .customLong("s-min"), help: "Smallest S of the grid.") var sMin: Double = 0
    @Option(name: .customLong("s-max"), help: "Largest S of the grid.") var sMax: Double = 2
    @Option(help: "Number of grid intervals.") var steps: Int = 20
    @Option(help: "Simulated time per point in ms.") var duration: Int = 20_000
    @Flag(help: "Graded spikes carrying ϑ(t_s) (ASNN mode): compare the mean PSC with S.") var graded = false
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Also draw f(S) and the simulated points into this SVG file.") var svg: String?

    func validate() throws {
        for (name, v) in [("tau-gamma", tauGamma), ("tau-eta", tauEta), ("tau-beta", tauBeta), ("tau-phi", tauPhi), ("theta0", theta0)] where !(v > 0 && v.isFinite) {
            throw ValidationError("--\(name) must be a positive number, got \(v)")
        }
        if let mf, !(mf >= 0 && mf.isFinite) { throw ValidationError("--m-f must be ≥ 0, got \(mf)") }
        if let h, !(h > 0 && h.isFinite) { throw ValidationError("--h must be positive, got \(h)") }
        guard sMin.isFinite, sMax.isFinite, sMax >= sMin else { throw ValidationError("need --s-min ≤ --s-max") }
        guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be between 1 and 100000") }
        guard (2...10_000_000).contains(duration) else { throw ValidationError("--duration must be between 2 and 10000000 ms") }
    }

    func run() throws {
        var check = TransferCheck(theta0: theta0, mf: mf ?? theta0)
        check.tauGamma = tauGamma
        check.tauEta = tauEta
        check.tauBeta = tauBeta
        check.tauPhi = tauPhi
        check.graded = graded
        check.durationMs = duration
        if let h { check.h = .value(h) }
        var o = Transfer.Options(check: check, grid: Transfer.grid(from: sMin, to: sMax, steps: steps))
        o.json = json
        o.svgPath = svg
        try finish(Transfer.run(o))
    }
}

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the float reference: ANN accuracy, then the spiking network's accuracy over time, FR, MT and spikes per layer.",
        discussion: "--data takes a CSV file (last column = label) or a data manifest (.json; Docs/data-format.md)."
    )

    @OptionGroup var common: SimulationFlags
    @Flag(help: "Only evaluate the analog network (fast; no spiking simulation).") var annOnly = false
    @Option(help: "With --ann-only: write each sample's ANN logits (the readout's input) to this CSV file, one row per sample.") var logits: String?
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Draw accuracy over time (with the ANN level and MT) into this SVG file.") var svg: String?
    @Option(help: "Streaming: show the samples one after another, this many steps each, without reset; report per-frame accuracy, latency to the new class and synaptic events per frame against the ANN's per-frame cost.") var stream: Int?
    @Option(help: "Run every ASN and graded relu at ϑ0 = m_f = this value (binary spike heights normalised again) instead of the model file's.") var theta0: Double?
    @Option(help: "With --stream: order the samples as runs of this many consecutive samples of one class (a camera that keeps seeing one object while its frames change).") var runs: Int = 1
    @Option(help: "Arousal (the paper's attention): a Table SI4 preset (iris, sonar, mnist, cifar10, cifar100, ilsvrc2012) or t_sa,ϑ0_lp,ϑ0_hp,p1,p2; runs all at ϑ0_lp, all at ϑ0_hp and with arousal, and compares.") var arousal: String?
    @OptionGroup var nir: NIRFlags

    func validate() throws {
        if let t = theta0, !ASNParameters.theta0Range.contains(t) { throw ValidationError("--theta0 must be in [\(ASNParameters.theta0Range.lowerBound), \(ASNParameters.theta0Range.upperBound)], got \(t)") }
        guard (1...100_000).contains(runs) else { throw ValidationError("--runs must be 1 … 100000") }
        if let a = arousal, ArousalRun.parse(a) == nil {
            throw ValidationError("--arousal takes a preset (\(Arousal.paper.keys.sorted().joined(separator: ", "))) or five numbers t_sa,theta0_lp,theta0_hp,p1,p2")
        }
        if arousal != nil && (stream != nil || annOnly || theta0 != nil) { throw ValidationError("--arousal runs on its own: without --stream, --ann-only or --theta0") }
        if logits != nil && !annOnly { throw ValidationError("--logits needs --ann-only") }
        if nir.options != NIROptions() && (arousal != nil || stream != nil) { throw ValidationError("--nir-convention and --nir-dt apply to a plain run (not --stream or --arousal)") }
    }

    func run() throws {
        if let a = arousal.flatMap(ArousalRun.parse) {
            var ao = ArousalRun.Options(modelPath: common.model, dataPath: common.data, arousal: a)
            ao.limit = common.limit
            ao.simulation = common.simulation
            ao.json = json
            try finish(ArousalRun.run(ao))
            return
        }
        var o = Simulate.Options(modelPath: common.model, dataPath: common.data)
        o.nir = nir.options
        o.theta0 = theta0
        o.annOnly = annOnly
        o.logitsPath = logits
        o.limit = common.limit
        o.simulation = common.simulation
        o.json = json
        o.svgPath = svg
        if let steps = stream {
            try finish(Stream.run(o, stepsPerFrame: steps, runs: runs))
            return
        }
        try finish(Simulate.run(o))
    }
}

/// Model, data and simulation flags shared by `simulate` and `sweep`.
/// How a .nir model is read (Docs/nir.md): the framework convention and the model step.
struct NIRFlags: ParsableArguments {
    @Option(help: "For a .nir model: whose conventions its neurons follow — snntorch (dt 1e-4 s, subtractive reset on the next step), norse (dt 1e-3 s, reset to v_reset), nir (the spec's reset to v_reset, dt 1e-4 s).")
    var nirConvention: String = NIROptions.Convention.snntorch.rawValue
    @Option(help: "For a .nir model: the model step in the file's time unit (default: the convention's).")
    var nirDt: Double?

    func validate() throws {
        guard NIROptions.Convention(rawValue: nirConvention) != nil else {
            throw ValidationError("--nir-convention must be one of \(NIROptions.Convention.allCases.map(\.rawValue).joined(separator: ", ")), got '\(nirConvention)'")
        }
        if let nirDt, !(nirDt.isFinite && nirDt > 0) { throw ValidationError("--nir-dt must be a positive number") }
    }

    var options: NIROptions { NIROptions(convention: NIROptions.Convention(rawValue: nirConvention) ?? .snntorch, dt: nirDt) }
}

struct SimulationFlags: ParsableArguments {
    @Argument(help: "The model file.") var model: String
    @Option(help: "The data set: a .csv file or a .json data manifest (Docs/data-format.md).") var data: String
    @Option(help: "Use only the first N samples.") var limit: Int?
    @Option(help: "Simulated time per sample in ms (1 ms steps).") var duration: Int = 500
    @Option(help: "Steps between a spike and its arrival: 0 (the authors' code) or 1 (hardware).") var hopDelay: Int = 0
    @Option(help: "Worker threads (default: all cores). Results do not depend on it.") var threads: Int = 0

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard (1...1_000_000).contains(duration) else { throw ValidationError("--duration must be between 1 and 1000000 ms") }
        guard hopDelay == 0 || hopDelay == 1 else { throw ValidationError("--hop-delay must be 0 or 1") }
        guard (0...1024).contains(threads) else { throw ValidationError("--threads must be between 0 and 1024") }
    }

    var simulation: SimulationOptions {
        var o = SimulationOptions()
        o.durationMs = duration
        o.hopDelay = hopDelay
        o.threads = threads
        return o
    }
}

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Simulate at several ϑ0 (= m_f, h re-normalised) and find the lowest firing rate that matches the ANN."
    )

    @OptionGroup var common: SimulationFlags
    @Option(help: "Comma-separated ϑ0 values.") var theta0: String = "0.03,0.05,0.1,0.2,0.3,0.5,0.7,1.0"
    @Option(help: "Accuracy within this many points of the ANN counts as a match.") var tolerance: Double = 0
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Draw accuracy against firing rate into this SVG file.") var svg: String?

    var values: [Double] { theta0.split(separator: ",").compactMap { Double($0.trimmed()) } }

    func validate() throws {
        let parts = theta0.split(separator: ",")
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ ASNParameters.theta0Range.contains($0) }) else {
            throw ValidationError("--theta0 must be a comma-separated list of numbers in [\(ASNParameters.theta0Range.lowerBound), \(ASNParameters.theta0Range.upperBound)], got '\(theta0)'")
        }
        guard tolerance >= 0 && tolerance.isFinite else { throw ValidationError("--tolerance must be ≥ 0") }
    }

    func run() throws {
        var o = Sweep.Options(modelPath: common.model, dataPath: common.data, theta0s: values)
        o.limit = common.limit
        o.simulation = common.simulation
        o.tolerancePoints = tolerance
        o.json = json
        o.svgPath = svg
        try finish(Sweep.run(o))
    }
}

/// The calibration options shared by convert and compare (Rueckauer et al.'s data-based normalisation).
struct ConversionFlags: ParsableArguments {
    @Option(help: "Samples to normalise by (a .csv file or .json data manifest; training data, not the test set).") var calibrate: String?
    @Option(help: "Use only the first N calibration samples.") var calibrateLimit: Int = 500
    @Option(help: "Each layer's λ is this percentile of its positive activations.") var percentile: Double = 99.9

    func validate() throws {
        guard calibrateLimit >= 1 else { throw ValidationError("--calibrate-limit must be at least 1") }
        guard percentile > 0 && percentile <= 100 else { throw ValidationError("--percentile must be in (0, 100]") }
    }
}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a ReLU or ASN network into a rate-coded IF network (Rueckauer et al. 2017: subtractive reset, data-based normalisation).",
        discussion: "Each relu and asn node becomes an 'if' node whose v_threshold and spike_height are λ, the chosen percentile of the layer's positive activations on the calibration samples (an exact rewrite of weight normalisation). The tensors are not changed: the weights file is copied beside the output."
    )

    @Argument(help: "The model file (.json).") var model: String
    @Option(help: "The neuron model to convert to (only 'if').") var to: String = "if"
    @Option(help: "The IF reset: 'subtract' (Rueckauer et al.) or 'zero' (v = 0 at once: Loihi's compartment, profile 'loihi').") var reset: String = "subtract"
    @Option(name: .shortAndLong, help: "The converted model file to write (.json).") var output: String
    @OptionGroup var conversion: ConversionFlags

    func validate() throws {
        guard to == "if" else { throw ValidationError("--to must be 'if' (the rate-coded IF baseline), got '\(to)'") }
        guard reset == "subtract" || reset == "zero" else { throw ValidationError("--reset must be 'subtract' or 'zero', got '\(reset)'") }
    }

    func run() throws {
        var o = Convert.Options(modelPath: model, outputPath: output)
        o.calibratePath = conversion.calibrate
        o.calibrateLimit = conversion.calibrateLimit
        o.percentile = conversion.percentile
        o.zeroReset = reset == "zero"
        try finish(Convert.run(o))
    }
}

struct ExportNIRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-nir",
        abstract: "Write an IF-family network (if, lif, cuba_lif; e.g. from `snnc convert --to if`) as a NIR graph.",
        discussion: "Dense, conv2d, flatten, average pooling, a uniform scale and the readout (an LI or CubaLI for a leaky one) are written as nir.write does; spike heights go into the next weights. The reply names the --nir-convention that reads the file back (Docs/nir.md)."
    )

    @Argument(help: "The model file (model.json, or .nir).") var model: String
    @Option(name: .shortAndLong, help: "The NIR file to write.") var output: String
    @Option(help: "Seconds per model step: NIR's time constants are τ_steps · dt, IF's R = r / dt.") var dt: Double = 1e-4
    @OptionGroup var nir: NIRFlags

    func validate() throws {
        guard dt.isFinite && dt > 0 && dt < 1e6 else { throw ValidationError("--dt must be a positive number of seconds") }
        guard output.lowercased().hasSuffix(".nir") else { throw ValidationError("-o must name a .nir file, got '\(output)'") }
    }

    func run() throws {
        var o = ExportNIR.Options(modelPath: model, outputPath: output)
        o.dt = dt
        o.nir = nir.options
        try finish(ExportNIR.run(o))
    }
}

struct ExportLavaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-lava",
        abstract: "Write an artefact compiled for loihi or loihi2 as a lava-dl netx file that Lava's fixed_pt models run bit-exactly.",
        discussion: "IF-family chains (if, lif, cuba_lif with Loihi's zero reset) of dense and conv layers. Beside model.net: model.export.json (netx layer → snnc layer) and, with --data, model.inputs.npy (per sample, the input layer's bias_mant). Docs/lava.md."
    )

    @Argument(help: "The compiled artefact directory.") var artefact: String
    @Option(name: .shortAndLong, help: "The netx file to write (.net).") var output: String
    @Option(help: "A data set: write each sample's input-layer biases beside the .net.") var data: String?
    @Option(help: "Only the first N samples of --data.") var limit: Int?

    func validate() throws {
        guard output.lowercased().hasSuffix(".net") else { throw ValidationError("-o must name a .net file, got '\(output)'") }
        if let limit { guard limit >= 1 && limit <= 1 << 30 else { throw ValidationError("--limit must be 1 … 2^30") } }
        guard limit == nil || data != nil else { throw ValidationError("--limit goes with --data") }
    }

    func run() throws {
        var o = ExportLava.Options(directory: artefact, outputPath: output)
        o.dataPath = data
        o.limit = limit
        try finish(ExportLava.run(o))
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run a network as it is (ASN, or graded ASN for ReLU) and its rate-coded IF conversion side by side in the float reference (and, with --profile, compiled in the emulator).",
        discussion: "Reports for each: accuracy over time, MT, FR, spikes and synaptic events per sample, and the first step at which accuracy reaches the ANN's less --tolerance points with the spikes and events spent until then. With --profile P both networks are compiled for P and run in the fixed-point emulator (hop delay 1): accuracy, and the cycle model's energy per sample over the run and until the target."
    )

    @OptionGroup var common: SimulationFlags
    @OptionGroup var conversion: ConversionFlags
    @OptionGroup var nir: NIRFlags
    @Option(help: "The target is the ANN's accuracy less this many points.") var tolerance: Double = 0.3
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Draw accuracy against spikes per sample into this SVG file.") var svg: String?
    @Option(help: "Also compile both networks for this profile and run them in the fixed-point emulator: accuracy and cycle-model energy.") var profile: String?

    func validate() throws {
        guard tolerance >= 0 && tolerance <= 100 else { throw ValidationError("--tolerance must be in [0, 100]") }
    }

    func run() throws {
        var o = Compare.Options(modelPath: common.model, dataPath: common.data)
        o.nir = nir.options
        o.limit = common.limit
        o.simulation = common.simulation
        o.calibratePath = conversion.calibrate
        o.calibrateLimit = conversion.calibrateLimit
        o.percentile = conversion.percentile
        o.tolerancePoints = tolerance
        o.json = json
        o.svgPath = svg
        o.profile = profile
        try finish(Compare.run(o))
    }
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Show a hardware profile (its limits, number formats and sources) or list the profiles, with where each comes from.",
        discussion: "The shipped profiles (HardwareProfiles/NAME.json) are built into snnc; NAME.json files in the directories of SNNC_PROFILE_PATH (colon-separated) come first, and a path to a .json file is read as it is."
    )

    @Argument(help: "A profile name (e.g. loihi) or a path to a profile .json file.") var name: String?
    @Flag(help: "List the profiles found.") var list = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if name == nil && !list { throw ValidationError("give a profile name, or --list") }
    }

    func run() throws {
        if list { try finish(Profiles.list()) } else { try finish(Profiles.show(name!, json: json)) }
    }
}

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Which chip fits this network: per profile, whether it fits, cores and chips needed, the binding limit per layer, the first refusal, and the cycle model's latency and energy per inference.",
        discussion: "Runs the compile passes through \(SNNCPasses.Pipeline.mappingDecided) on each profile (no artefact written). Exit 0 when at least one profile fits, 1 when none does."
    )

    @Argument(help: "The model file.") var model: String
    @Option(name: .customLong("profile"), help: "A profile name or .json path; repeat for several.") var profiles: [String] = []
    @Flag(help: "Every profile `snnc profile --list` shows (the default when no --profile is given).") var all = false
    @Flag(help: "Print the table as JSON.") var json = false
    @Option(help: "A `snnc simulate --json` result: measured per-layer firing rates for the cycle model (default: a uniform estimate).") var rates: String?
    @Option(help: "Steps (ms) of one inference, for latency and energy.") var duration: Int = 500
    @OptionGroup var nir: NIRFlags

    func validate() throws {
        if all && !profiles.isEmpty { throw ValidationError("give --all or --profile, not both") }
        if duration < 1 || duration > 10_000_000 { throw ValidationError("--duration must be between 1 and 10000000 steps, got \(duration)") }
    }

    func run() throws {
        var o = Fit.Options(modelPath: model)
        o.profiles = profiles
        o.json = json
        o.rates = rates
        o.durationMs = duration
        o.nir = nir.options
        try finish(Fit.run(o))
    }
}

struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile a model for a hardware profile: quantise, partition onto cores, place on the mesh, route, check, and write the artefact directory with its placement report.",
        discussion: "Passes, in order: \(SNNCPasses.Pipeline.names.joined(separator: ", "))."
    )

    @Argument(help: "The model file.") var model: String
    @Option(help: "Hardware profile name or .json path (snnc profile --list).") var profile: String = "generic"
    @Option(help: "Print the graph after this pass and stop.") var dumpAfter: String?
    @Flag(help: "Print time and peak memory per pass (stderr).") var timings = false
    @Flag(help: "Print the placement report as JSON.") var json = false
    @Option(name: .shortAndLong, help: "The artefact directory (default: next to the model, MODEL.PROFILE.snnc).") var output: String?
    @Option(help: "A `snnc simulate --json` result: measured per-layer firing rates weight the placement.") var rates: String?
    @Option(help: "Compile every ASN (and graded relu) at ϑ0 = m_f = this value instead of the model file's.") var theta0: Double?
    @Option(help: "Arousal: a Table SI4 preset (iris, sonar, mnist, …) or t_sa,ϑ0_lp,ϑ0_hp,p1,p2; compiles at ϑ0_lp with the registers the switch to ϑ0_hp writes (snnc emulate then applies it).") var arousal: String?
    @Option(help: "Calibration data (training samples: a data file snnc simulate reads): the float reference runs on them and each ASN layer's state LSB is sized to the measured ranges of I, S, Ŝ and ϑ.") var calibrate: String?
    @Option(help: "Calibrate on the first N samples only (default: all).") var calibrateLimit: Int?
    @Option(help: "Per register, the percentile of the per-sample maxima used (0 < P ≤ 100).") var calibratePercentile: Double = Calibration.defaultPercentile
    @Option(help: "Headroom on top of the measured range (≥ 1).") var calibrateMargin: Double = Calibration.defaultMargin
    @Option(help: "The board: the profile's board with N chips (snnc profile NAME lists them), or 'auto' for the smallest that holds the network (default: the profile's chip count).") var chips: String?
    @OptionGroup var nir: NIRFlags

    func validate() throws {
        if let c = chips, c != "auto", (Int(c) ?? 0) < 1 { throw ValidationError("--chips takes a chip count (a positive integer) or 'auto', got '\(c)'") }
        if calibrate == nil && (calibrateLimit != nil || calibratePercentile != Calibration.defaultPercentile || calibrateMargin != Calibration.defaultMargin) {
            throw ValidationError("--calibrate-limit, --calibrate-percentile and --calibrate-margin need --calibrate DATA")
        }
        if let n = calibrateLimit, n < 1 { throw ValidationError("--calibrate-limit must be at least 1, got \(n)") }
        if !(calibratePercentile > 0 && calibratePercentile <= 100) { throw ValidationError("--calibrate-percentile must be in (0, 100], got \(calibratePercentile)") }
        if !(calibrateMargin >= 1 && calibrateMargin <= 1024) { throw ValidationError("--calibrate-margin must be in [1, 1024], got \(calibrateMargin)") }
        if let t = theta0, !ASNParameters.theta0Range.contains(t) { throw ValidationError("--theta0 must be in [\(ASNParameters.theta0Range.lowerBound), \(ASNParameters.theta0Range.upperBound)], got \(t)") }
        if let a = arousal, ArousalRun.parse(a) == nil {
            throw ValidationError("--arousal takes a preset (\(Arousal.paper.keys.sorted().joined(separator: ", "))) or five numbers t_sa,theta0_lp,theta0_hp,p1,p2")
        }
        if arousal != nil && theta0 != nil { throw ValidationError("--arousal sets ϑ0 to its ϑ0_lp; give --theta0 or --arousal") }
    }

    func run() throws {
        var o = Compile.Options(modelPath: model)
        o.theta0 = theta0
        o.arousal = arousal.flatMap(ArousalRun.parse)
        o.output = output
        o.rates = rates
        o.calibrate = calibrate.map { Compile.Calibrate(data: $0, limit: calibrateLimit, percentile: calibratePercentile, margin: calibrateMargin) }
        o.profile = profile
        o.chips = chips.flatMap { Int($0) }
        o.chipsAuto = chips == "auto"
        o.nir = nir.options
        o.dumpAfter = dumpAfter
        o.timings = timings
        o.json = json
        try finish(Compile.run(o))
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Regenerate an artefact's placement report (report.md, report.svg) from its report.json and print it."
    )

    @Argument(help: "The compiled artefact directory.") var directory: String
    @Option(help: "What to print: md, json or svg.") var format: String = "md"

    func run() throws {
        try finish(Report.run(directory: directory, format: format))
    }
}

struct EmulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate",
        abstract: "Run a compiled artefact in the fixed-point emulator; --check compares it with the float reference and fails past the limits."
    )

    @Argument(help: "The compiled artefact directory (snnc compile -o DIR).") var directory: String
    @Option(help: "The data set: a .csv file or a .json data manifest.") var data: String
    @Option(help: "Use only the first N samples.") var limit: Int?
    @Option(help: "Steps per sample (1 ms each).") var duration: Int = 500
    @Option(help: "Worker threads (default: all cores). Results do not depend on it.") var threads: Int = 0
    @Flag(help: "Also run the float reference (hop delay 1) and compare.") var check = false
    @Flag(help: "Stop at the first overflow instead of counting it.") var strict = false
    @Option(help: "Largest accepted accuracy change, either way, in points.") var maxAccuracyDrop: Double = 0.5
    @Option(help: "Largest accepted share of images classified differently, in percent (a single image always passes).") var maxDifferingPercent: Double = 0.5
    @Option(help: "Largest accepted per-layer spike count deviation, in percent.") var maxSpikeDeviation: Double = 5
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Write the check as JUnit XML to this file.") var junit: String?
    @Option(help: "Streaming: show the samples one after another, this many steps each, without reset, in the emulator and the float reference (hop delay 1); report per-frame accuracy, latency to the new class and synaptic events per frame against the ANN's per-frame cost.") var stream: Int?
    @Option(help: "With --stream: order the samples as runs of this many consecutive samples of one class.") var runs: Int = 1
    @Option(help: "--check: a neuron whose cumulative spike count differs from the float one by more than this many spikes is where a failed check reports the first divergence.") var divergenceSpikes: Int = 3
    @Option(help: "Write per-step spikes and state (I, S, Ŝ, ϑ) of the cores given by --cores to this file, as JSON lines (golden vectors for bringing up a chip).") var trace: String?
    @Option(help: "With --trace: the cores to trace, comma-separated (e.g. 0,3,7).") var cores: String?
    @Option(help: "With --trace: the sample to trace (0-based).") var traceSample: Int = 0

    func validate() throws {
        guard duration >= 1 && duration <= 1_000_000 else { throw ValidationError("--duration must be 1 … 1000000") }
        guard threads >= 0 && threads <= 4096 else { throw ValidationError("--threads must be 0 … 4096") }
        guard (1...100_000).contains(runs) else { throw ValidationError("--runs must be 1 … 100000") }
        if let l = limit, l < 1 { throw ValidationError("--limit must be at least 1") }
        guard (0...100).contains(maxAccuracyDrop) else { throw ValidationError("--max-accuracy-drop is in points and must be 0 … 100, got \(maxAccuracyDrop)") }
        guard (0...100).contains(maxDifferingPercent) else { throw ValidationError("--max-differing-percent must be 0 … 100, got \(maxDifferingPercent)") }
        guard (0...1_000_000).contains(maxSpikeDeviation) else { throw ValidationError("--max-spike-deviation is in percent and must be 0 … 1000000, got \(maxSpikeDeviation)") }
        guard (0...1_000_000).contains(divergenceSpikes) else { throw ValidationError("--divergence-spikes must be 0 … 1000000") }
        guard (0...100_000_000).contains(traceSample) else { throw ValidationError("--trace-sample must be 0 … 100000000") }
        if trace != nil {
            guard let c = cores, !c.isEmpty, c.split(separator: ",", omittingEmptySubsequences: false).allSatisfy({ Int($0).map { (0...(1 << 20)).contains($0) } ?? false }) else {
                throw ValidationError("--trace needs --cores with core numbers, comma-separated (e.g. --cores 0,3)")
            }
        } else if cores != nil {
            throw ValidationError("--cores is for --trace")
        }
    }

    func run() throws {
        var o = Emulate.Options(directory: directory, dataPath: data)
        o.limit = limit
        o.durationMs = duration
        o.threads = threads
        o.check = check
        o.strict = strict
        o.maxAccuracyDrop = maxAccuracyDrop
        o.maxDifferingPercent = maxDifferingPercent
        o.maxSpikeDeviation = maxSpikeDeviation
        o.json = json
        o.junitPath = junit
        o.divergenceSpikes = divergenceSpikes
        o.tracePath = trace
        o.traceCores = (cores ?? "").split(separator: ",").compactMap { Int($0) }
        o.traceSample = traceSample
        if let steps = stream {
            guard !check else { throw ValidationError("--stream and --check are separate runs; give one") }
            try finish(Stream.runEmulated(o, stepsPerFrame: steps, runs: runs))
            return
        }
        try finish(Emulate.run(o))
    }
}

struct CalibrateArousalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate-arousal",
        abstract: "Fit arousal's θ_A = p1·t + p2 on a data set (the paper used its training set): the inputs wrong at ϑ0_lp but right at ϑ0_hp must be selected.",
        discussion: "Prints the --arousal value for snnc simulate and snnc compile."
    )

    @OptionGroup var common: SimulationFlags
    @Option(help: "Skip this many samples first (calibrate on samples you will not evaluate on).") var offset: Int = 0
    @Option(help: "t_sa: when the readout gap starts being summed (ms).") var start: Int
    @Option(help: "The window the gap is summed over (ms).") var window: Int = 50
    @Option(help: "The low-precision ϑ0 (= m_f) the network runs at.") var theta0Low: Double
    @Option(help: "The high-precision ϑ0 arousal switches to.") var theta0High: Double
    @Option(help: "θ_A is this many times the largest gap among the inputs to catch (a maximum over a calibration set underestimates the one on new inputs).") var margin: Double = 2
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard offset >= 0 else { throw ValidationError("--offset must be ≥ 0") }
        guard start >= 0 && start <= 1_000_000 && window >= 10 && window <= 1_000_000 else { throw ValidationError("--start must be ≥ 0 and --window 10 … 1000000") }
        guard ASNParameters.theta0Range.contains(theta0Low) && ASNParameters.theta0Range.contains(theta0High) else { throw ValidationError("--theta0-low and --theta0-high must be in [\(ASNParameters.theta0Range.lowerBound), \(ASNParameters.theta0Range.upperBound)]") }
        guard margin > 0 && margin <= 1000 else { throw ValidationError("--margin must be in (0, 1000]") }
    }

    func run() throws {
        var o = ArousalRun.CalibrationOptions(modelPath: common.model, dataPath: common.data, startMs: start, theta0Low: theta0Low, theta0High: theta0High)
        o.offset = offset
        o.limit = common.limit
        o.windowMs = window
        o.margin = margin
        o.simulation = common.simulation
        o.json = json
        try finish(ArousalRun.calibrate(o))
    }
}
