<?php
// IT-Stack role mapping for GLPI (written for this stack), run in a loop by the `roles`
// container: members of the directory groups get GLPI profiles on the root entity.
//   glpi-admins -> Super-Admin, glpi-techs -> Technician   (is_dynamic=1 rows are ours)
// samlSSO's own rules can only match e-mail addresses, so the groups come from LDAP instead.
// Users exist once they signed in (samlSSO just-in-time creation); rights follow within a cycle.

function need(string $k): string
{
    $v = getenv($k);
    if ($v === false || $v === '') {
        fwrite(STDERR, "itstack: missing $k\n");
        exit(2);
    }
    return $v;
}

$ldap = ldap_connect(need('ITSTACK_LDAP_URL'));
ldap_set_option($ldap, LDAP_OPT_PROTOCOL_VERSION, 3);
ldap_set_option($ldap, LDAP_OPT_REFERRALS, 0);
if (!@ldap_bind($ldap, need('ITSTACK_LDAP_BIND_DN'), need('ITSTACK_LDAP_BIND_PASSWORD'))) {
    fwrite(STDERR, "itstack: LDAP bind failed\n");
    exit(3);
}
$db = new mysqli(need('GLPI_DB_HOST'), need('GLPI_DB_USER'), need('GLPI_DB_PASSWORD'), need('GLPI_DB_NAME'),
    (int) need('GLPI_DB_PORT'));

$mapping = json_decode(need('ITSTACK_ROLE_MAPPING'), true);  // {"<group dn>": "<GLPI profile name>"}
foreach ($mapping as $groupDn => $profileName) {
    $res = ldap_search($ldap, need('ITSTACK_LDAP_USERS_DN'), '(memberOf=' . ldap_escape($groupDn, '', LDAP_ESCAPE_FILTER) . ')', ['uid']);
    $entries = $res ? ldap_get_entries($ldap, $res) : ['count' => 0];
    $members = [];
    for ($i = 0; $i < $entries['count']; $i++) {
        if (isset($entries[$i]['uid'][0])) {
            $members[] = $entries[$i]['uid'][0];
        }
    }
    $stmt = $db->prepare('SELECT id FROM glpi_profiles WHERE name = ?');
    $stmt->bind_param('s', $profileName);
    $stmt->execute();
    $profile = $stmt->get_result()->fetch_row();
    if (!$profile) {
        fwrite(STDERR, "itstack: GLPI profile $profileName not found\n");
        exit(4);
    }
    $profileId = (int) $profile[0];
    $granted = 0;
    foreach ($members as $uid) {
        $stmt = $db->prepare(
            'INSERT INTO glpi_profiles_users (users_id, profiles_id, entities_id, is_recursive, is_dynamic)
             SELECT u.id, ?, 0, 1, 1 FROM glpi_users u
             WHERE u.name = ? AND NOT EXISTS (SELECT 1 FROM glpi_profiles_users p
                 WHERE p.users_id = u.id AND p.profiles_id = ? AND p.entities_id = 0)');
        $stmt->bind_param('isi', $profileId, $uid, $profileId);
        $stmt->execute();
        $granted += $stmt->affected_rows;
    }
    // Whoever left the group loses the profile we granted (is_dynamic rows only).
    $placeholders = $members ? implode(',', array_fill(0, count($members), '?')) : "''";
    $stmt = $db->prepare("DELETE p FROM glpi_profiles_users p JOIN glpi_users u ON u.id = p.users_id
        WHERE p.profiles_id = ? AND p.is_dynamic = 1 AND p.entities_id = 0 AND u.name NOT IN ($placeholders)");
    $types = 'i' . str_repeat('s', count($members));
    $stmt->bind_param($types, $profileId, ...$members);
    $stmt->execute();
    echo "itstack: $profileName: " . count($members) . " member(s), $granted new grant(s), {$stmt->affected_rows} revoked\n";
}
