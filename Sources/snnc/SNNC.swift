// The `snnc` command line: argument parsing only. Each subcommand calls the driver library
// and prints what it returns; all behaviour lives in SNNCDriver so tests can run it in-process.
import ArgumentParser
import SNNCDriver
#if canImport(Glibc)
import Glibc
#endif

@main
struct SNNC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snnc",
        abstract: "Compile adaptive spiking neural networks (ASN) for neuromorphic hardware.",
        version: snncVersion,
        subcommands: [InspectCommand.self, SynthesizeCommand.self]
    )

    /// Exit codes: 0 success, 1 bad input (model, profile, data), 2 bad usage (command line).
    static func main() {
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
            FileHandle.standardError.write(fullMessage(for: error) + "\n")
            Glibc.exit(ExitStatus.usage.rawValue)
        }
    }
}

/// Prints a driver result and turns its status into the process exit code.
func finish(_ r: CommandResult) throws {
    if !r.stdout.isEmpty { FileHandle.standardOutput.write(r.stdout) }
    if !r.stderr.isEmpty { FileHandle.standardError.write(r.stderr) }
    if r.status != .success { throw ExitCode(r.status.rawValue) }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate a model and print one row per node: shape, parameters, ASN neurons, synapses, fan-in, MACs."
    )

    @Argument(help: "The model file (model format v1, Docs/model-format.md).")
    var model: String

    @Flag(help: "Print the table as JSON.")
    var json = false

    func run() throws {
        try finish(Inspect.run(modelPath: model, json: json))
    }
}

struct SynthesizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthesize",
        abstract: "Write an UNTRAINED compile-scale model (synthetic weights, fixed seed): resnet18-imagenet, vgg-cifar10, mlp-inline-1m."
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
