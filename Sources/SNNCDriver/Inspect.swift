// `snnc inspect model.json`: one row per node — name, op, output shape, parameters, ASN
// neurons, synapses (total fan-in), max fan-in, MACs — and totals.
import SNNCIR
import SNNCImport
import SNNCJSON

public enum Inspect {
    /// `displayName`: how the file is named in the output (default: the path as given).
    public static func run(modelPath: String, json: Bool, displayName: String? = nil, nir: NIROptions = NIROptions()) -> CommandResult {
        let loaded = ModelFiles.load(path: modelPath, displayName: displayName, nir: nir)
        guard let model = loaded.model else { return .failure(loaded.diagnostics) }
        var result = CommandResult()
        result.report(loaded.diagnostics)  // warnings
        result.stdout = json ? jsonReport(model).serialized() : textReport(model)
        return result
    }

    public static func textReport(_ model: Model) -> String {
        let (rows, total) = GraphStats.table(model)
        var t = TextTable(headers: ["node", "op", "output", "params", "neurons", "synapses", "max fan-in", "MACs"],
                          alignments: [.left, .left, .left, .right, .right, .right, .right, .right])
        for (n, s) in rows {
            t.add([n.name, opLabel(n), n.shape.map(String.init).joined(separator: "×"),
                   groupedDigits(s.parameters), groupedDigits(s.neurons), groupedDigits(s.synapses),
                   groupedDigits(s.maxFanIn), groupedDigits(s.macs)])
        }
        t.addRule()
        t.add(["total", "\(rows.count) nodes", "", groupedDigits(total.parameters), groupedDigits(total.neurons),
               groupedDigits(total.synapses), groupedDigits(total.maxFanIn), groupedDigits(total.macs)])
        var header = "model '\(model.name)' (\(model.file))"
        if let w = model.weightsFile { header += ", weights \(w)" }
        header += ", \(humanBytes(model.tensorBytes)) of tensors\n\n"
        return header + t.render()
    }

    static func opLabel(_ n: Node) -> String {
        if case .asn(let p) = n.attributes, p.spike == .graded { return "asn (graded)" }
        return n.op.rawValue
    }

    public static func jsonReport(_ model: Model) -> JSONOutput {
        let (rows, total) = GraphStats.table(model)
        func counts(_ s: NodeStats) -> [(String, JSONOutput)] {
            [("parameters", .int(s.parameters)), ("neurons", .int(s.neurons)), ("synapses", .int(s.synapses)),
             ("max_fan_in", .int(s.maxFanIn)), ("macs", .int(s.macs))]
        }
        let nodes: [JSONOutput] = rows.map { n, s in
            .object([("name", .string(n.name)), ("op", .string(n.op.rawValue)),
                     ("inputs", .array(n.inputs.map { .string($0) })),
                     ("shape", .array(n.shape.map { .int($0) }))] + counts(s))
        }
        return .object([
            ("model", .string(model.name)),
            ("file", .string(model.file)),
            ("tensor_bytes", .int(model.tensorBytes)),
            ("nodes", .array(nodes)),
            ("total", .object(counts(total))),
        ])
    }
}
