<?php
// IT-Stack configuration of Snipe-IT (written for this stack), run with the image's PHP inside
// the Laravel application:
//   php itstack.php configure   settings row, local admin, permission groups, SAML and LDAP
//   php itstack.php roles       directory admin group -> "IT-Stack Admins" (after ldap-sync)
// Every value comes from the environment; secrets never appear on a command line.

require '/var/www/html/vendor/autoload.php';
$app = require '/var/www/html/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();

use App\Models\Group;
use App\Models\Setting;
use App\Models\User;
use Illuminate\Support\Facades\Crypt;

const ADMINS_GROUP = 'IT-Stack Admins';
const USERS_GROUP = 'IT-Stack Users';

function need(string $key): string
{
    $value = getenv($key);
    if ($value === false || $value === '') {
        fwrite(STDERR, "itstack: missing environment variable $key\n");
        exit(2);
    }
    return $value;
}

function store($model): void
{
    // The models validate against web-form rules; these values are ours, so save them as given.
    if (method_exists($model, 'forceSave')) {
        $model->forceSave();
    } else {
        $model->save();
    }
}

function group(string $name, array $permissions): Group
{
    $group = Group::where('name', $name)->first() ?? new Group();
    $group->name = $name;
    $group->permissions = json_encode($permissions);
    store($group);
    return $group;
}

function configure(): void
{
    $adminName = need('ITSTACK_ADMIN_USER');
    $admin = User::withTrashed()->where('username', $adminName)->first() ?? new User();
    $admin->username = $adminName;
    $admin->first_name = 'IT-Stack';
    $admin->last_name = 'Local Admin';
    $admin->email = need('ITSTACK_ADMIN_EMAIL');
    $admin->password = bcrypt(need('ITSTACK_ADMIN_PASSWORD'));
    $admin->permissions = json_encode(['superuser' => 1]);
    $admin->activated = 1;
    $admin->deleted_at = null;
    store($admin);

    $admins = group(ADMINS_GROUP, ['superuser' => '1']);
    $users = group(USERS_GROUP, []);

    $s = Setting::first();
    if ($s === null) {
        // What the setup wizard stores (SettingsController::postSaveFirstAdmin): with a user and a
        // settings row the wizard is closed, so nobody can claim the instance from the web.
        $s = new Setting();
        $s->site_name = 'IT-Stack Assets';
        $s->alerts_enabled = 1;
        $s->pwd_secure_min = 12;
        $s->brand = 1;
        $s->locale = 'en-US';
        $s->default_currency = 'USD';
        $s->email_format = 'filastname';
        $s->username_format = 'filastname';
        $s->next_auto_tag_base = 1;
        $s->auto_increment_assets = 0;
        $s->zerofill_count = 5;
        $s->full_multiple_companies_support = 0;
        $s->created_by = $admin->id;
    }
    $s->alert_email = need('ITSTACK_ALERT_EMAIL');
    $s->email_domain = need('ITSTACK_EMAIL_DOMAIN');

    if (getenv('ITSTACK_SAML_ENABLED') === '1') {
        // Snipe-IT's SP entity id is APP_URL; ACS /saml/acs, SLS /saml/sls (SamlServiceProvider).
        $s->saml_enabled = 1;
        $s->saml_idp_metadata = need('ITSTACK_SAML_IDP_METADATA_URL');
        $s->saml_attr_mapping_username = 'uid';
        $s->saml_forcelogin = 0;
        $s->saml_slo = 1;
        $s->saml_custom_settings = "security.wantAssertionsSigned=true\nsecurity.requestedAuthnContext=false";
    } else {
        $s->saml_enabled = 0;
    }

    if (getenv('ITSTACK_LDAP_ENABLED') === '1') {
        // Read-only directory sync: Snipe-IT creates no users on SAML login, so the directory's
        // Snipe-IT groups are imported by `snipeit:ldap-sync` (itstack ldapsync container).
        $s->ldap_enabled = 1;
        $s->ldap_server = need('ITSTACK_LDAP_URL');
        $s->ldap_uname = need('ITSTACK_LDAP_BIND_DN');
        $s->ldap_pword = Crypt::encrypt(need('ITSTACK_LDAP_BIND_PASSWORD'));
        $s->ldap_basedn = need('ITSTACK_LDAP_USERS_DN');
        $s->ldap_filter = need('ITSTACK_LDAP_FILTER');
        $s->ldap_username_field = 'uid';
        $s->ldap_auth_filter_query = 'uid=';
        $s->ldap_fname_field = 'givenname';
        $s->ldap_lname_field = 'sn';
        $s->ldap_email = 'mail';
        $s->ldap_version = 3;
        $s->ldap_pw_sync = 0;
        $s->ldap_tls = 0;
        $s->ldap_server_cert_ignore = 0;
        $s->is_ad = 0;
        $s->ldap_default_group = $users->id;
    } else {
        $s->ldap_enabled = 0;
    }
    store($s);
    echo "itstack: Snipe-IT configured (admin {$adminName}, groups {$admins->id}/{$users->id})\n";
}

function roles(): void
{
    $conn = ldap_connect(need('ITSTACK_LDAP_URL'));
    ldap_set_option($conn, LDAP_OPT_PROTOCOL_VERSION, 3);
    ldap_set_option($conn, LDAP_OPT_REFERRALS, 0);
    if (!@ldap_bind($conn, need('ITSTACK_LDAP_BIND_DN'), need('ITSTACK_LDAP_BIND_PASSWORD'))) {
        fwrite(STDERR, "itstack: LDAP bind failed\n");
        exit(3);
    }
    $filter = '(memberOf=' . need('ITSTACK_LDAP_ADMIN_GROUP_DN') . ')';
    $result = ldap_search($conn, need('ITSTACK_LDAP_USERS_DN'), $filter, ['uid']);
    $entries = $result ? ldap_get_entries($conn, $result) : ['count' => 0];
    $wanted = [];
    for ($i = 0; $i < $entries['count']; $i++) {
        if (isset($entries[$i]['uid'][0])) {
            $wanted[] = $entries[$i]['uid'][0];
        }
    }
    $admins = Group::where('name', ADMINS_GROUP)->firstOrFail();
    $local = need('ITSTACK_ADMIN_USER');
    foreach (User::whereIn('username', $wanted)->get() as $user) {
        if (!$user->groups()->where('group_id', $admins->id)->exists()) {
            $user->groups()->attach($admins->id);
        }
    }
    // The directory is authoritative: whoever left the group loses the rights.
    foreach ($admins->users()->get() as $user) {
        if ($user->username !== $local && !in_array($user->username, $wanted, true)) {
            $user->groups()->detach($admins->id);
        }
    }
    echo 'itstack: ' . count($wanted) . " directory admin(s) mapped\n";
}

$mode = $argv[1] ?? 'configure';
if ($mode === 'configure') {
    configure();
} elseif ($mode === 'roles') {
    roles();
} else {
    fwrite(STDERR, "usage: php itstack.php configure|roles\n");
    exit(64);
}
