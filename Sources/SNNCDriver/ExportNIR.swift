// `snnc export-nir model.json -o OUT.nir [--nir-dt S]`: an IF-family network as a NIR graph
// (Sources/SNNCImport/NIRExport.swift, Docs/nir.md "Writing NIR").
import SNNCIR
import SNNCImport
import SNNCPasses

public enum ExportNIR {
    public struct Options: Sendable {
        public var modelPath: String
        public var outputPath: String
        /// Seconds per model step (NIR's time constants are continuous).
        public var dt = 1e-4
        /// How a .nir source is read.
        public var nir = NIROptions()
        public init(modelPath: String, outputPath: String) {
            self.modelPath = modelPath
            self.outputPath = outputPath
        }
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        let loaded = ModelFiles.load(path: o.modelPath, nir: o.nir)
        guard let model = loaded.model else { return .failure(loaded.diagnostics) }
        r.report(loaded.diagnostics)
        // Batch-norms after dense and conv layers go into their weights, as the compiler folds them.
        guard case .success(let generic) = Profiles.load("generic") else { return .failure([Diagnostic(.error, .profileNotFound, file: o.modelPath, "the built-in profile 'generic' is missing")]) }
        var unit = CompileUnit(model: model, profile: generic)
        do { try FoldBatchNorm().run(&unit) } catch { return .failure(loaded.diagnostics + error.diagnostics) }
        switch NIRExport.write(unit.model, to: o.outputPath, dt: o.dt) {
        case .failure(let e): return .failure(loaded.diagnostics + e.diagnostics)
        case .success(let convention):
            r.stdout = "wrote \(o.outputPath): '\(model.name)' as NIR \(NIRExport.version) at dt = \(o.dt) s per step; "
                + "read it with --nir-convention \(convention.rawValue)\(o.dt == NIROptions(convention: convention).step ? "" : " --nir-dt \(o.dt)")\n"
        }
        return r
    }
}
