// `snnc synthesize NAME -o DIR`: writes an untrained compile-scale model (see SyntheticModels).
import SNNCIR
#if canImport(Glibc)
import Glibc
#endif

public enum Synthesize {
    public static func run(name: String, directory: String, inline: Bool, seed: UInt64) -> CommandResult {
        guard let writer = SyntheticModels.make(name, placement: inline ? .inline : .safetensors(fileName: "model.safetensors"), seed: seed) else {
            var r = CommandResult()
            r.stderr = "snnc: unknown synthetic model '\(name)'\n"
            r.status = .usage
            return r
        }
        if !fileExists(directory) && mkdir(directory, 0o755) != 0 {
            var r = CommandResult()
            r.stderr = "snnc: cannot create directory '\(directory)': \(String(cString: strerror(errno)))\n"
            r.status = .badInput
            return r
        }
        do {
            try writer.write(directory: directory)
        } catch {
            var r = CommandResult()
            r.stderr = "snnc: \(error)\n"
            r.status = .badInput
            return r
        }
        var r = CommandResult()
        r.stdout = "wrote \(resolvePath("model.json", relativeTo: directory)) (\(name), untrained synthetic weights, seed \(seed))\n"
        return r
    }
}
