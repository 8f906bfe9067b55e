/** A zod issue as far as closestForm reads it. */
export interface UnionIssue {
  code: string;
  path: PropertyKey[];
  errors?: unknown;
}

/**
 * A union's issue (zod's `Invalid input`: the value fits none of the union's forms) as the issues of the form
 * the value came closest to, their paths from the same root as the union's, so that each points inside the value
 * and says what is wrong there (a freeze with a `schedule` and no `duration`: at `freeze.duration`): the form with
 * the fewest issues, on a tie the one whose issues lie deepest (it got furthest). Unions inside it likewise; any
 * other issue as it is.
 */
export function closestForm<Issue extends UnionIssue>(issue: Issue): Issue[] {
  const forms = issue.errors;
  if (issue.code !== 'invalid_union' || !Array.isArray(forms) || forms.length === 0) return [issue];
  const depth = (form: Issue[]) => Math.max(0, ...form.map((inner) => inner.path.length));
  const [closest] = [...(forms as Issue[][])].sort((a, b) => a.length - b.length || depth(b) - depth(a));
  return closest!.flatMap((inner) => closestForm({ ...inner, path: [...issue.path, ...inner.path] }));
}
