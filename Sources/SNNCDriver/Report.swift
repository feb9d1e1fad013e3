// `snnc report DIR`: reads an artefact's report.json, writes report.md and report.svg again
// (atomically) and prints the one asked for.
import SNNCIR
import SNNCJSON

public enum Report {
    public static func run(directory: String, format: String) -> CommandResult {
        guard ["md", "json", "svg"].contains(format) else {
            var r = CommandResult()
            r.stderr = "snnc: --format must be md, json or svg\n"
            r.status = .usage
            return r
        }
        let path = directory + "/report.json"
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, limit: 1 << 30) } catch {
            return .failure([Diagnostic(.error, .artefactInvalid, file: path, "cannot read the report: \(error)", notes: ["give a directory written by `snnc compile`"])])
        }
        guard let doc = try? JSONDocument.parse(bytes), let report = MappingReport(json: doc.root) else {
            return .failure([Diagnostic(.error, .artefactInvalid, file: path, "not a snnc placement report (format 'snnc-placement-report')")])
        }
        let md = report.markdown(), svg = report.svg()
        do {
            try writeFileAtomically(directory + "/report.md", md)
            try writeFileAtomically(directory + "/report.svg", svg)
        } catch {
            return .failure([Diagnostic(.error, .outputUnwritable, file: directory, "cannot write the report: \(error)")])
        }
        var r = CommandResult()
        r.stdout = format == "md" ? md : format == "svg" ? svg : String(decoding: bytes, as: UTF8.self)
        return r
    }
}
