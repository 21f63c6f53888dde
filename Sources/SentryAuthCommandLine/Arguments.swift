/// A small command-line parser: options with values (`--store FILE`, `--store=FILE`, `-H VALUE`),
/// flags (`--help`), positionals, and `--` to end options. Anything it does not know is a usage error.
package struct Arguments {
    package private(set) var values: [String: [String]] = [:]
    package private(set) var flags: Set<String> = []
    package private(set) var positionals: [String] = []

    /// Parses a command's arguments.
    ///
    /// A key typed where none belongs (a name, a merchant ID, a file name, a key ID, a URL) is bad
    /// usage: it is refused before anything runs, so it is never stored, and never printed back
    /// (the message names the option, not the text). Only the options in `secretOptions` (such as
    /// `check`'s `-H 'Authorization: Bearer KEY'`) may carry one.
    package init(
        _ arguments: [String], options: Set<String>, flags knownFlags: Set<String> = [],
        secretOptions: Set<String> = [], command: String
    ) throws {
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if name == "--help" || name == "-h" || knownFlags.contains(name) {
                guard inlineValue == nil else { throw UsageError("\(name) takes no value.", command: command) }
                flags.insert(name)
            } else if options.contains(name) {
                if let inlineValue {
                    values[name, default: []].append(inlineValue)
                } else {
                    guard index < arguments.count else { throw UsageError("\(name) needs a value.", command: command) }
                    values[name, default: []].append(arguments[index])
                    index += 1
                }
            } else {
                throw UsageError("unknown option \(name).", command: command)
            }
        }
        for (name, given) in values where !secretOptions.contains(name) {
            if given.contains(where: SecretText.holdsKeyShapedText) {
                throw UsageError(
                    "\(name) holds what looks like an API key (sntr_…); it was not printed or stored. "
                        + "If it is a live key, roll it.", command: command)
            }
        }
        if positionals.contains(where: SecretText.holdsKeyShapedText) {
            throw UsageError(
                "the argument looks like an API key (sntr_…), not a key ID, a name or a file; it was not printed "
                    + "or stored. If it is a live key, roll it.", command: command)
        }
    }

    package var wantsHelp: Bool { flags.contains("--help") || flags.contains("-h") }

    /// The option's value, if given once; an error if given twice.
    package func value(_ name: String, command: String) throws -> String? {
        guard let given = values[name] else { return nil }
        guard given.count == 1 else { throw UsageError("\(name) can be given only once.", command: command) }
        return given[0]
    }

    package func required(_ name: String, command: String) throws -> String {
        guard let value = try value(name, command: command) else {
            throw UsageError("\(name) is required.", command: command)
        }
        return value
    }

    package func all(_ name: String) -> [String] { values[name] ?? [] }

    package func positionals(exactly count: Int, _ names: String, command: String) throws -> [String] {
        guard positionals.count == count else {
            throw UsageError("expected \(names), got \(positionals.count) argument(s).", command: command)
        }
        return positionals
    }
}
