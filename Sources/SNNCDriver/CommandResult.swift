// What a subcommand produces. The CLI prints it and exits with its code; tests inspect it.
import SNNCIR

public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The input (model, profile, data) is wrong.
    case badInput = 1
    /// The command line is wrong.
    case usage = 2
}

public struct CommandResult: Sendable {
    public var stdout: String = ""
    public var stderr: String = ""
    public var status: ExitStatus = .success
    /// Every diagnostic the command produced (also rendered into stderr).
    public var diagnostics: [Diagnostic] = []

    public init() {}

    public mutating func report(_ diags: [Diagnostic]) {
        diagnostics.append(contentsOf: diags)
        for d in diags { stderr += d.description + "\n" }
    }

    /// Writes an output file atomically; a failure becomes `error[output-unwritable]` (exit 1).
    public mutating func write(_ path: String, _ text: String, what: String) {
        do { try writeFileAtomically(path, text) } catch {
            report([Diagnostic(.error, .outputUnwritable, file: path, "cannot write the \(what): \(error)")])
            status = .badInput
        }
    }

    /// Writes a binary output file atomically, as `write`.
    public mutating func writeBytes(_ path: String, _ bytes: [UInt8], what: String) {
        do { try writeFileAtomically(path, bytes) } catch {
            report([Diagnostic(.error, .outputUnwritable, file: path, "cannot write the \(what): \(error)")])
            status = .badInput
        }
    }

    /// Reports `diags` and marks the command as failed on bad input (exit 1).
    public mutating func fail(_ diags: [Diagnostic]) {
        report(diags)
        status = .badInput
    }

    public static func failure(_ diags: [Diagnostic]) -> CommandResult {
        var r = CommandResult()
        r.report(diags)
        r.status = .badInput
        return r
    }
}
