import ArgumentParser
import Foundation

/// Two corrections to the command line before ArgumentParser reads it, so that argument
/// errors say what a person meant:
///
/// - A negative number after an option is its value (`-k -1` reads as `-k=-1`), so that
///   validation says "-k must be between 1 and ...", not "missing value for -k". No densekit
///   option is named like a number, so such a token can never be an option itself.
/// - A word where a subcommand is expected that names none is an error that says so, with
///   the closest subcommand (`unknown subcommand 'serach', did you mean 'search'?`), instead of
///   "unexpected arguments".
enum CommandLineRepair {
    /// `arguments` without the program name, with negative option values attached.
    static func attachingNegativeValues(_ arguments: [String]) -> [String] {
        var repaired: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if i + 1 < arguments.count, isOptionName(argument), isNegativeNumber(arguments[i + 1]) {
                repaired.append(argument + "=" + arguments[i + 1])
                i += 2
            } else {
                repaired.append(argument)
                i += 1
            }
        }
        return repaired
    }

    /// The message for a word that is not a subcommand where one is expected; nil when the
    /// command line names its subcommands correctly (or stops before them).
    static func unknownSubcommand(_ arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command = root
        var path = [root.configuration.commandName ?? "densekit"]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !argument.hasPrefix("-") else { return nil }
            let names = subcommands.map { $0.configuration.commandName ?? $0._commandName }
            guard let index = names.firstIndex(of: argument) else {
                if argument == "help" { return nil }
                let closest = names.min { distance(argument, $0) < distance(argument, $1) }
                var message = "unknown subcommand '\(argument)' of '\(path.joined(separator: " "))'"
                if let closest, distance(argument, closest) <= max(2, closest.count / 3) { message += ", did you mean '\(closest)'?" }
                return message + " (subcommands: \(names.joined(separator: ", ")))"
            }
            command = subcommands[index]
            path.append(names[index])
        }
        return nil
    }

    private static func isOptionName(_ token: String) -> Bool {
        guard token.hasPrefix("-"), !token.contains("="), token.count >= 2 else { return false }
        let name = token.drop { $0 == "-" }
        guard let first = name.first else { return false }
        return first.isLetter && token.prefix(3) != "---"
    }

    private static func isNegativeNumber(_ token: String) -> Bool {
        guard token.hasPrefix("-"), token.count >= 2 else { return false }
        return Double(token) != nil
    }

    /// Edit distance (insertions, deletions, substitutions, adjacent transpositions).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
