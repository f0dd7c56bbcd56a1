using System.Text;
using Profefe.Core.Profiles;

namespace Profefe.Core.Storage;

/// <summary>
/// The one plan the SQL index stores (SQLite, PostgreSQL) run a find with. Without labels it is a range scan of the
/// service's profiles by created_at; with labels the rarest label (first in the list) drives a range scan of
/// profile_labels, every further label is a point lookup on the same key, so no unrelated profile is read.
/// Parameters the caller binds: service key parameters, <c>from</c>, <c>to</c>, <c>type</c> (when the query has
/// one), <c>k0</c>/<c>v0</c>… (one pair per label, in the order given) and <c>limit</c> (when the query has one).
/// </summary>
/// <param name="ParameterPrefix">How the dialect marks a named parameter ("$" for SQLite, "@" for Npgsql).</param>
/// <param name="ServiceKey">The columns naming the service in profiles and profile_labels, each bound to the parameter of the same name.</param>
/// <param name="Columns">What a find returns from profiles, in the order the store reads them.</param>
/// <param name="RowKey">The column a profile_labels row shares with its profiles row.</param>
public sealed record ProfileFindSql(string ParameterPrefix, IReadOnlyList<string> ServiceKey, IReadOnlyList<string> Columns, string RowKey)
{
    /// <summary>Newest first when only the most recent are wanted, so the scan stops after Limit rows; the caller reverses them.</summary>
    public static bool NewestFirst(ProfileQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query.Limit > 0;
    }

    /// <summary>The statement for <paramref name="query"/>; <paramref name="labels"/> are its distinct labels rarest first, or null for none.</summary>
    public string Build(ProfileQuery query, IReadOnlyList<Label>? labels)
    {
        ArgumentNullException.ThrowIfNull(query);
        var direction = NewestFirst(query) ? "DESC" : "ASC";
        var p = ParameterPrefix;
        var sql = new StringBuilder("SELECT ");
        if (labels is null or { Count: 0 })
        {
            sql.AppendJoin(", ", Columns).Append(" FROM profiles WHERE ");
            AppendServiceKey(sql, string.Empty);
            if (query.Type is not null)
            {
                sql.Append(" AND type = ").Append(p).Append("type");
            }

            sql.Append(" AND created_at BETWEEN ").Append(p).Append("from AND ").Append(p).Append("to ORDER BY created_at ")
                .Append(direction).Append(", id ").Append(direction);
        }
        else
        {
            for (var i = 0; i < Columns.Count; i++)
            {
                sql.Append(i == 0 ? "p." : ", p.").Append(Columns[i]);
            }

            sql.Append(" FROM profile_labels l0");
            for (var i = 1; i < labels.Count; i++)
            {
                sql.Append(" CROSS JOIN profile_labels l").Append(i);
            }

            sql.Append(" CROSS JOIN profiles p WHERE ");
            AppendServiceKey(sql, "l0.");
            sql.Append(" AND l0.key = ").Append(p).Append("k0 AND l0.value = ").Append(p).Append("v0 AND l0.created_at BETWEEN ")
                .Append(p).Append("from AND ").Append(p).Append("to");
            if (query.Type is not null)
            {
                sql.Append(" AND l0.type = ").Append(p).Append("type");
            }

            for (var i = 1; i < labels.Count; i++)
            {
                var alias = "l" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                sql.Append(" AND ");
                AppendServiceKey(sql, alias + ".");
                sql.Append(" AND ").Append(alias).Append(".key = ").Append(p).Append('k').Append(i)
                    .Append(" AND ").Append(alias).Append(".value = ").Append(p).Append('v').Append(i)
                    .Append(" AND ").Append(alias).Append(".created_at = l0.created_at AND ").Append(alias).Append(".id = l0.id");
            }

            sql.Append(" AND p.").Append(RowKey).Append(" = l0.").Append(RowKey)
                .Append(" ORDER BY l0.created_at ").Append(direction).Append(", l0.id ").Append(direction);
        }

        if (query.Limit > 0)
        {
            sql.Append(" LIMIT ").Append(p).Append("limit");
        }

        return sql.ToString();
    }

    private void AppendServiceKey(StringBuilder sql, string alias)
    {
        for (var i = 0; i < ServiceKey.Count; i++)
        {
            sql.Append(i == 0 ? string.Empty : " AND ").Append(alias).Append(ServiceKey[i]).Append(" = ").Append(ParameterPrefix).Append(ServiceKey[i]);
        }
    }
}
