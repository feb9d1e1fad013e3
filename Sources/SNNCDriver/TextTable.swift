// Plain-text tables for terminal reports. Columns are left-aligned for text and right-aligned
// for numbers; the output is deterministic (golden-tested), so nothing here depends on the
// terminal. Small enough to own rather than depend on a table package for.

public struct TextTable: Sendable {
    public enum Alignment: Sendable { case left, right }
    public var headers: [String]
    public var alignments: [Alignment]
    public private(set) var rows: [[String]] = []
    /// Indices of rows after which a rule is drawn (e.g. before a totals row).
    public private(set) var rulesAfter: Set<Int> = []

    public init(headers: [String], alignments: [Alignment]) {
        precondition(headers.count == alignments.count)
        self.headers = headers
        self.alignments = alignments
    }

    public mutating func add(_ row: [String]) {
        precondition(row.count == headers.count)
        rows.append(row)
    }

    public mutating func addRule() { rulesAfter.insert(rows.count - 1) }

    public func render() -> String {
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, c) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                parts.append(alignments[i] == .left ? c + pad : pad + c)
            }
            var s = parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        var out = line(headers) + "\n" + rule + "\n"
        for (i, r) in rows.enumerated() {
            out += line(r) + "\n"
            if rulesAfter.contains(i) { out += rule + "\n" }
        }
        return out
    }
}

/// 1234567 → "1,234,567"
public func groupedDigits(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, ch) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}

/// 52428800 → "50.0 MiB"
public func humanBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 {
        v /= 1024
        u += 1
    }
    if u == 0 { return "\(n) B" }
    let r = (v * 10).rounded() / 10
    return "\(r) \(units[u])"
}
