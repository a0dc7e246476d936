/**
 * A small IAM evaluator over a synthesized template, for the recorded-requests test: resolves the template's
 * intrinsic functions to concrete names and ARNs (account 123456789012, us-east-1, physical name = the resource's
 * explicit name or its logical id), then decides whether a role's identity policies allow one request
 * (action, resource ARN, condition context) the way IAM does: an explicit Deny wins, else any matching Allow.
 *
 * Supported, and anything else fails loudly: Action/Resource with `*` and `?` wildcards (no NotAction or
 * NotResource), and the condition operators StringEquals, StringLike, Bool, and their ForAllValues:/ForAnyValue:
 * forms. As in IAM, a single-valued operator on a missing key does not match; ForAllValues on a missing or empty
 * key does (which is why a LeadingKeys condition must never sit on an action without keys, such as Scan).
 */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

type Json = unknown;
interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
}
export interface TemplateJson {
  Resources: Record<string, CfnResource>;
}

/** One request as IAM authorizes it. */
export interface IamRequest {
  action: string;
  resource: string;
  /** Condition keys of the request, multi-valued where IAM's are (dynamodb:LeadingKeys). */
  context?: Record<string, string | string[]>;
}

/** Physical names: the resource's explicit name property, else its logical id. */
function physicalName(logicalId: string, resource: CfnResource): string {
  const p = resource.Properties ?? {};
  for (const key of ['TableName', 'QueueName', 'Name', 'RoleName', 'FunctionName']) if (typeof p[key] === 'string') return p[key];
  return logicalId;
}

/** Resolves Ref, Fn::GetAtt and Fn::Join (the intrinsics CDK writes into policies and env vars) to plain strings. */
export class TemplateResolver {
  constructor(readonly template: TemplateJson) {}

  resolve(node: Json): string {
    if (typeof node === 'string') return node;
    if (node && typeof node === 'object') {
      const obj = node as Record<string, Json>;
      if ('Ref' in obj) return this.ref(obj['Ref'] as string);
      if ('Fn::GetAtt' in obj) {
        const [id, attribute] = obj['Fn::GetAtt'] as [string, string];
        return this.getAtt(id, attribute);
      }
      if ('Fn::Join' in obj) {
        const [delimiter, parts] = obj['Fn::Join'] as [string, Json[]];
        return parts.map((part) => this.resolve(part)).join(delimiter);
      }
    }
    throw new Error(`TemplateResolver: cannot resolve ${JSON.stringify(node)}`);
  }

  private resource(id: string): CfnResource {
    const resource = this.template.Resources[id];
    if (!resource) throw new Error(`TemplateResolver: no resource ${id}`);
    return resource;
  }

  ref(id: string): string {
    switch (id) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
    }
    const resource = this.resource(id);
    const name = physicalName(id, resource);
    // A queue's Ref is its URL; every other resource used here returns its name.
    if (resource.Type === 'AWS::SQS::Queue') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
    return name;
  }

  getAtt(id: string, attribute: string): string {
    const resource = this.resource(id);
    const name = physicalName(id, resource);
    if (attribute !== 'Arn') throw new Error(`TemplateResolver: unsupported attribute ${id}.${attribute}`);
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${ACCOUNT}:role/${name}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;
      case 'AWS::Scheduler::ScheduleGroup':
        return `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
    }
    throw new Error(`TemplateResolver: no ARN rule for ${resource.Type}`);
  }

  /** A Lambda function's environment variables, resolved. */
  functionEnvironment(functionLogicalId: string): Record<string, string> {
    const variables = (this.resource(functionLogicalId).Properties?.Environment?.Variables ?? {}) as Record<string, Json>;
    return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, this.resolve(value)]));
  }

  /** The role logical id of a Lambda function. */
  functionRole(functionLogicalId: string): string {
    const role = this.resource(functionLogicalId).Properties?.Role as { 'Fn::GetAtt': [string, string] };
    return role['Fn::GetAtt'][0];
  }
}

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  Resource?: Json;
  Condition?: Record<string, Record<string, string | string[]>>;
  NotAction?: unknown;
  NotResource?: unknown;
}

/** The identity policy statements attached to a role (AWS::IAM::Policy resources naming it). */
export function roleStatements(template: TemplateJson, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties?.Roles ?? []) as { Ref?: string }[];
    if (roles.some((r) => r.Ref === roleLogicalId)) out.push(...(resource.Properties!.PolicyDocument.Statement as Statement[]));
  }
  if (!Object.values(template.Resources).some((r) => r.Type === 'AWS::IAM::Role' && template.Resources[roleLogicalId] === r)) {
    throw new Error(`roleStatements: ${roleLogicalId} is not a role`);
  }
  return out;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** IAM glob: `*` any run of characters, `?` one character; case-sensitive unless `ignoreCase` (actions). */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function conditionHolds(operator: string, key: string, expected: string[], context: Record<string, string | string[]>): boolean {
  const [qualifier, base] = operator.includes(':') ? (operator.split(':') as [string, string]) : [undefined, operator];
  const compare = (want: string, got: string): boolean => {
    switch (base) {
      case 'StringEquals':
        return want === got;
      case 'StringLike':
        return globMatch(want, got);
      case 'Bool':
        return want.toLowerCase() === got.toLowerCase();
    }
    throw new Error(`iam-eval: unsupported condition operator ${operator}`);
  };
  const actual = context[key] === undefined ? undefined : list(context[key]);
  if (qualifier === 'ForAllValues') return (actual ?? []).every((got) => expected.some((want) => compare(want, got)));
  if (qualifier === 'ForAnyValue') return (actual ?? []).some((got) => expected.some((want) => compare(want, got)));
  if (qualifier !== undefined) throw new Error(`iam-eval: unsupported qualifier ${qualifier}`);
  if (actual === undefined || actual.length !== 1) return false;
  return expected.some((want) => compare(want, actual[0]!));
}

function statementMatches(statement: Statement, request: IamRequest, resolver: TemplateResolver): boolean {
  if (statement.NotAction !== undefined || statement.NotResource !== undefined) throw new Error('iam-eval: NotAction/NotResource are not supported');
  if (!list(statement.Action).some((action) => globMatch(action, request.action, true))) return false;
  if (!list(statement.Resource as Json | Json[]).some((resource) => globMatch(resolver.resolve(resource), request.resource))) return false;
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      if (!conditionHolds(operator, key, list(values).map((v) => resolver.resolve(v)), request.context ?? {})) return false;
    }
  }
  return true;
}

/** Whether `statements` allow `request`: no matching Deny and at least one matching Allow. */
export function isAllowed(statements: Statement[], request: IamRequest, resolver: TemplateResolver): boolean {
  if (statements.some((s) => s.Effect === 'Deny' && statementMatches(s, request, resolver))) return false;
  return statements.some((s) => s.Effect === 'Allow' && statementMatches(s, request, resolver));
}
